import Foundation
import Testing
import TokendPolicy
import TokendTestSupport
@testable import TokendStore

/// What one refresh costs the store (its claim, then its outcome with a rotated token and an
/// event-less routine update), SQLite against PostgreSQL: wall time per refresh at 1 and at 16
/// refreshes at once, and CPU of this process and of the database server's processes.
/// Only with `TOKEND_STORE_COST=N` (refreshes per run); prints a Markdown table for docs/postgresql.md.
@Suite("Store cost per refresh", .serialized, .enabled(if: ProcessInfo.processInfo.environment["TOKEND_STORE_COST"] != nil))
struct StoreCostBenchmark {
    static let refreshes = Int(ProcessInfo.processInfo.environment["TOKEND_STORE_COST"] ?? "") ?? 2000

    @Test("claim + outcome, per refresh", arguments: StoreFactory.available)
    func cost(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let store = subject.store
            let grants = 200
            var ids: [Int64] = []
            for index in 0..<grants {
                let key = GrantKey.library("L\(index)", of: "bench")
                _ = try await store.saveAuthorization(authorization(key, refresh: "r", access: "a"), now: Date())
                ids.append(try #require(try await store.record(for: key)).id)
            }
            let grantIDs = ids
            var lines: [String] = []
            for concurrency in [1, 16] {
                let serverBefore = Self.serverCPU()
                let selfBefore = Self.processCPU()
                let started = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<concurrency {
                        group.addTask {
                            var index = worker
                            while index < Self.refreshes {
                                let id = grantIDs[index % grants]
                                let owner = "daemon:bench:\(worker)"
                                if try await store.claimRefresh(id: id, owner: owner, now: Date(), lease: 60, ownerIsGone: { _ in false }) != nil {
                                    var update = GrantUpdate(status: .authorized, message: "refreshed", nextRefreshAt: Date().addingTimeInterval(900))
                                    update.succeeded = true
                                    update.newAccessToken = IssuedToken(token: "access-\(index)", issuedAt: Date(), expiresAt: Date().addingTimeInterval(1800))
                                    update.newRefreshToken = IssuedToken(token: "refresh-\(index)", issuedAt: Date(), expiresAt: Date().addingTimeInterval(86_400))
                                    _ = try await store.apply(update, toGrant: id, claimedBy: owner, now: Date())
                                }
                                index += concurrency
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let wall = ContinuousClock.now - started
                let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
                let ownCPU = Self.processCPU() - selfBefore
                let serverCPU = factory == .postgresql ? Self.serverCPU() - serverBefore : 0
                let per = { (value: Double) in String(format: "%.0f µs", value / Double(Self.refreshes) * 1e6) }
                lines.append("| \(factory.rawValue) | \(concurrency) | \(per(seconds)) | \(String(format: "%.0f", Double(Self.refreshes) / seconds))/s | \(per(ownCPU)) | \(factory == .postgresql ? per(serverCPU) : "(in process)") |")
            }
            print("| store | at once | wall per refresh | refreshes/s | daemon CPU per refresh | server CPU per refresh |")
            print(lines.joined(separator: "\n"))
        }
    }

    static func processCPU() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// CPU seconds of every `postgres` process of this machine (utime + stime in /proc).
    static func serverCPU() -> Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var total = 0.0
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {
            guard let comm = try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8), comm.hasPrefix("postgres"),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) { total += (user + system) / ticks }
        }
        return total
    }
}
