import Foundation
import Testing
@testable import TokendStore

/// README: writes that arrive together share one transaction, each in its own savepoint, so one
/// failing write does not undo the others.
@Suite("Group commit")
struct GroupCommitTests {
    @Test("one failing write of a batch is undone alone, its own earlier statements included; the others are committed")
    func failingWriteUndoneAlone() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let store = try database.open()
        try await store.write { try $0.execute("CREATE TABLE scratch (x INTEGER UNIQUE)") }
        // A slow write holds the writer, so the next twenty arrive while it runs and share one transaction.
        async let slow: Void = store.write { _ in Thread.sleep(forTimeInterval: 0.3) }
        try await Task.sleep(for: .milliseconds(50))
        let succeeded = await withTaskGroup(of: (Int, Bool).self) { group in
            for value in 0..<20 {
                group.addTask {
                    do {
                        try await store.write { db in
                            try db.execute("INSERT INTO scratch VALUES (\(value))")
                            // Write 7 inserts its value twice: the second breaks UNIQUE and the write fails.
                            if value == 7 { try db.execute("INSERT INTO scratch VALUES (\(value))") }
                        }
                        return (value, true)
                    } catch {
                        return (value, false)
                    }
                }
            }
            return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        try await slow
        #expect(succeeded.filter { !$0.value }.map(\.key) == [7], "\(succeeded)")
        let rows = try await store.write { db -> [Int] in
            let statement = try db.prepare("SELECT x FROM scratch ORDER BY x")
            var rows: [Int] = []
            while try statement.step() { rows.append(Int(statement.int64(0))) }
            return rows
        }
        #expect(rows == Array(0..<20).filter { $0 != 7 }, "\(rows)")
    }
}
