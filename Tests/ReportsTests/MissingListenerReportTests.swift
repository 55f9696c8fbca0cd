import Foundation
import Testing
import TokendReports

@Suite("The status report of a daemon that runs without a listener")
struct MissingListenerReportTests {
    let pages = MissingListener(listener: "web pages", address: "127.0.0.1:8080", reason: "Address already in use")

    @Test("a missing listener is a warning (exit 1) with a note, in the table and the JSON")
    func missingListenerIsAWarning() throws {
        let report = StatusReport(
            records: [], organisations: [("acme", true)], daemon: DaemonState(running: true, pid: 812, missingListeners: [pages]))
        #expect(report.attention.exitCode == 1)
        #expect(report.notes == [pages.note])
        #expect(report.table(colour: false).contains("note: web pages not served: cannot listen on 127.0.0.1:8080 (Address already in use)"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.jsonText().utf8)) as? [String: Any])
        let missing = (json["daemon"] as? [String: Any])?["missing_listeners"] as? [[String: Any]]
        #expect(missing?.first?["listener"] as? String == "web pages")
        // Without a missing listener, all is well.
        #expect(StatusReport(records: [], organisations: [], daemon: DaemonState(running: true)).attention == .ok)
    }

    @Test("the file is believed for the daemon that wrote it only, and is removed when nothing is missing")
    func fileIsTiedToItsDaemon() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-listeners-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("tokend.sqlite").path
        try MissingListenersFile.write([pages], pid: 812, database: database)
        #expect(MissingListenersFile.read(database: database, pid: 812) == [pages])
        #expect(MissingListenersFile.read(database: database, pid: 813).isEmpty, "a file left by another daemon")
        #expect(MissingListenersFile.read(database: database, pid: nil).isEmpty)
        try MissingListenersFile.write([], pid: 812, database: database)
        #expect(!FileManager.default.fileExists(atPath: MissingListenersFile.path(database: database)))
    }
}
