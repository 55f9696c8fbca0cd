import Foundation
import PostgresNIO
import TokendPolicy

/// One result row read by column index, with the few types the schema uses.
struct ResultRow {
    private let cells: PostgresRandomAccessRow

    init(_ row: PostgresRow) { cells = row.makeRandomAccess() }

    func string(_ index: Int) throws -> String? { try cells[index].decode(String?.self) }
    func int64(_ index: Int) throws -> Int64 { try cells[index].decode(Int64?.self) ?? 0 }
    func int(_ index: Int) throws -> Int? { try cells[index].decode(Int?.self) }
    func bool(_ index: Int) throws -> Bool { try cells[index].decode(Bool?.self) ?? false }
    func double(_ index: Int) throws -> Double? { try cells[index].decode(Double?.self) }
    func bytes(_ index: Int) throws -> [UInt8]? { try cells[index].decode(ByteBuffer?.self).map { Array($0.readableBytesView) } }
    /// A time stored as seconds since 1970 (as in SQLite).
    func date(_ index: Int) throws -> Date? { try cells[index].decode(Double?.self).map(Date.init(timeIntervalSince1970:)) }
}

extension PostgresRowSequence {
    /// Every row, read into values by `body`.
    func collect<T>(_ body: (ResultRow) throws -> T) async throws -> [T] {
        var result: [T] = []
        for try await row in self { result.append(try body(ResultRow(row))) }
        return result
    }

    /// The first row, if any.
    func first<T>(_ body: (ResultRow) throws -> T) async throws -> T? {
        for try await row in self { return try body(ResultRow(row)) }
        return nil
    }
}

extension Date {
    /// The stored form of a time: seconds since 1970, as SQLite keeps it.
    var epoch: Double { timeIntervalSince1970 }
}

extension Optional where Wrapped == Date {
    var epoch: Double? { map(\.timeIntervalSince1970) }
}

extension Array where Element == UInt8 {
    /// A `bytea` value to bind.
    var bytea: ByteBuffer { ByteBuffer(bytes: self) }
}

extension GrantKey {
    init(_ organisation: String?, _ kind: String?, _ subject: String?) {
        self.init(organisation: organisation ?? "", kind: GrantKind(rawValue: kind ?? "") ?? .user, subject: subject ?? "")
    }
}
