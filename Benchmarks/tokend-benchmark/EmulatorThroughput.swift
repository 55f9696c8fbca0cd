import AsyncHTTPClient
import Foundation
import NIOCore

/// The emulator's own throughput, moved here from the test suite (where a debug build measured
/// itself and slowed every run): minting grants over HTTP, then refreshing a sample of them with
/// concurrent clients, each answer checked. The emulator runs as its own (release) process.
struct EmulatorThroughput {
    let base: String
    let grants: Int
    let refreshes: Int
    let concurrency: Int

    func run(mint: () async throws -> [String]) async throws {
        let mintStart = ContinuousClock.now
        let tokens = try await mint()
        let minted = ContinuousClock.now - mintStart
        guard tokens.count == grants, Set(tokens.prefix(1000)).count == min(1000, grants) else {
            throw EmulatorThroughputError("the emulator minted \(tokens.count) grants, not \(grants) distinct ones")
        }
        print("emulator: minted \(grants) grants over HTTP in \(String(format: "%.2f", Self.seconds(minted))) s")

        let sample = (0..<refreshes).map { tokens[($0 * 37) % tokens.count] }
        let started = ContinuousClock.now
        let succeeded = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var ok = 0
                    for index in stride(from: worker, to: sample.count, by: concurrency) {
                        if try await refresh(sample[index]) { ok += 1 }
                    }
                    return ok
                }
            }
            return try await group.reduce(0, +)
        }
        let took = ContinuousClock.now - started
        guard succeeded == refreshes else {
            throw EmulatorThroughputError("\(refreshes - succeeded) of \(refreshes) refreshes were not answered 200")
        }
        let rate = Double(refreshes) / Self.seconds(took)
        print("emulator: \(refreshes) HTTP refreshes (\(concurrency) concurrent) in \(String(format: "%.2f", Self.seconds(took))) s: \(Int(rate)) per second")
    }

    /// One refresh at the token endpoint; whether it was answered 200.
    private func refresh(_ token: String) async throws -> Bool {
        var request = HTTPClientRequest(url: base + "/auth/oauth2/token")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let form = "grant_type=refresh_token&refresh_token=\(Self.formEscaped(token))&client_id=tokend-demo&client_secret=demo-secret"
        request.body = .bytes(ByteBuffer(string: form))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return response.status == .ok
    }

    private static func formEscaped(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

struct EmulatorThroughputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
