import Foundation
import Testing

/// The real binaries: the emulator as a process, the daemon killed with SIGKILL mid-refresh.
@Suite("A daemon killed during a refresh", .serialized)
struct CrashRecoveryTests {
    func curl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-s", "--max-time", "5"] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

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
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        chmod(directory.path, 0o700)  // private to the daemon's user: the API socket needs no group here
        defer { try? FileManager.default.removeItem(at: directory) }
        let (emulator, base) = try await EmulatorProcess.start(["--access-token-lifetime", "4", "--rotation"])
        defer { emulator.terminate(); emulator.waitUntilExit() }

        // A grant, imported the way an administrator would.
        let minted = try curl(["-X", "POST", base + "/_emulator/grants", "-d", #"{"user":"ALICE","client_id":"tokend-demo","count":1}"#])
        let token = try #require((try JSONSerialization.jsonObject(with: Data(minted.utf8)) as? [String])?.first)
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("rt").path, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600])
        _ = FileManager.default.createFile(
            atPath: directory.appendingPathComponent("token.key").path,
            contents: Data((0..<32).map { _ in UInt8.random(in: 0...255) }), attributes: [.posixPermissions: 0o600])
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("secret").path, contents: Data("demo-secret".utf8), attributes: [.posixPermissions: 0o600])
        try """
            database = "tokend.sqlite"
            key_file = "token.key"
            public_url = "http://127.0.0.1:8080"
            api_socket = "api.sock"
            listen = "127.0.0.1:\(try LocalPort.free())"
            [refresh]
            minimum_interval_seconds = 1
            [[organisation]]
            name = "demo"
            use_default_configuration = false
            region = "custom"
            authorization_url = "\(base)"
            token_url = "\(base)"
            client_id = "tokend-demo"
            client_secret_file = "secret"
            """.write(to: directory.appendingPathComponent("tokend.toml"), atomically: true, encoding: .utf8)
        let config = directory.appendingPathComponent("tokend.toml").path
        let imported = try TokendProcess.run(["import", "--config", config, "--organisation", "demo", "--library", "ACTIVE",
                                              "--refresh-token-file", directory.appendingPathComponent("rt").path])
        #expect(imported.status == 0, "\(imported.stderr)")

        // iManage will hold the next token request; the daemon sends it at about half of 4 s.
        _ = try curl(["-X", "POST", base + "/_emulator/faults", "-d", #"{"endpoint":"token","kind":"hang","seconds":60,"then":"drop"}"#])
        let before = try tokenRequests(base)
        let first = Process()
        first.executableURL = TokendProcess.binary
        first.arguments = ["run", "--config", config]
        first.standardError = Pipe()
        try first.run()
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
        let second = Process()
        second.executableURL = TokendProcess.binary
        second.arguments = ["run", "--config", config]
        let secondErr = Pipe()
        second.standardError = secondErr
        try second.run()
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
