import Foundation
import Testing
import TokendTestSupport

/// The real binaries: the emulator as a process, the daemon killed with SIGKILL mid-refresh.
@Suite("A daemon killed during a refresh", .serialized)
struct CrashRecoveryTests {
    func curl(_ arguments: [String]) throws -> String { try DaemonHarness.runCurl(arguments) }

    func tokenRequests(_ base: String) throws -> Int {
        let stats = try curl([base + "/_emulator/stats"])
        guard let data = stats.data(using: .utf8),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let endpoints = object["endpoints"] as? [String: Any], let token = endpoints["token"] as? [String: Any],
              let total = token["total"] as? Int else { return -1 }
        return total
    }

    @Test("SIGKILL while iManage holds the request; the restarted daemon reports the uncertain outcome and recovers")
    func killDuringRefresh() async throws {
        let files = try DaemonDirectory("tokend-crash", mode: 0o700)  // private to the daemon's user: the API socket needs no group here
        let directory = files.url
        defer { files.remove() }
        let (emulator, base) = try await EmulatorProcess.start(["--access-token-lifetime", "4", "--rotation"])
        defer { emulator.terminate(); emulator.waitUntilExit() }

        // A grant, imported the way an administrator would.
        let minted = try curl(["-X", "POST", base + "/_emulator/grants", "-d", #"{"user":"ALICE","client_id":"tokend-demo","count":1}"#])
        let token = try #require((try JSONSerialization.jsonObject(with: Data(minted.utf8)) as? [String])?.first)
        files.write("rt", Data(token.utf8))
        files.writeKey()
        files.writeSecret()
        let config = try files.writeConfiguration(TestConfiguration(
            listen: "127.0.0.1:\(try LocalPort.free())", refresh: ["minimum_interval_seconds = 1"],
            organisations: [TestOrganisation(at: base, customerID: nil)]))
        let imported = try TokendProcess.run(["import", "--config", config, "--organisation", "demo", "--library", "ACTIVE",
                                              "--refresh-token-file", directory.appendingPathComponent("rt").path])
        #expect(imported.status == 0, "\(imported.stderr)")

        // iManage will hold the next token request; the daemon sends it at about half of 4 s.
        _ = try curl(["-X", "POST", base + "/_emulator/faults", "-d", #"{"endpoint":"token","kind":"hang","seconds":60,"then":"drop"}"#])
        let before = try tokenRequests(base)
        let first = try TokendProcess.launch(["run", "--config", config]).process
        var sent = false
        for _ in 0..<100 {
            if try tokenRequests(base) > before { sent = true; break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(sent, "the daemon never sent its refresh")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(first.terminationReason == .uncaughtSignal)

        // iManage is fine again; the restarted daemon must say the last outcome was uncertain, then carry on.
        _ = try curl(["-X", "DELETE", base + "/_emulator/faults"])
        let (second, secondErr) = try TokendProcess.launch(["run", "--config", config])
        // It recovers: the grant is refreshed and authorized, read as an administrator would.
        let recovered = try await offThePool { () throws -> Bool in
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                let status = try TokendProcess.run(["status", "--json", "--config", config])
                let object = try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
                // Refreshed by this daemon: the first ran no refresh to its end, so any refresh is the second's.
                if let library = (object?["libraries"] as? [[String: Any]])?.first, library["status"] as? String == "authorized",
                   library["last_refresh_at"] is String { return true }
                Thread.sleep(forTimeInterval: 0.2)
            }
            return false
        }
        second.terminate()
        second.waitUntilExit()
        let log = String(decoding: secondErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(second.terminationStatus == 0)
        #expect(recovered, "the interrupted grant was not authorized again within 20 s")
        #expect(log.contains("1 overdue first"), "the interrupted grant was not put first: \(log)")
        #expect(log.contains("after an interrupted refresh"), "no word of the uncertain outcome: \(log)")
        #expect(!log.contains(token), "a refresh token reached the log")
    }
}
