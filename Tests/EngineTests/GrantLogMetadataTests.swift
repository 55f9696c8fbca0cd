import Logging
import Testing
import TokendLogging
import TokendPolicy
@testable import TokendEngine

/// The journal fields of the contract on a line about a grant, as they reach the journal or stderr.
@Suite("Journal fields of a grant's log line")
struct GrantLogMetadataTests {
    func record(_ metadata: Logger.Metadata, level: Logger.Level) -> LogRecord {
        LogRecord(level: level, message: "change", fields: metadata.map { ($0.key, $0.value.description) }.sorted { $0.key < $1.key })
    }

    @Test("a library's status change: organisation, library and status, nothing else")
    func library() {
        let fields = GrantLogMetadata.fields(.library("ACTIVE", of: "acme"), status: .authorized)
        #expect(Set(fields.keys) == ["TOKEND_ORGANISATION", "TOKEND_LIBRARY", "TOKEND_STATUS"])
        let line = LogLineFormatter.format(record(fields, level: GrantLogMetadata.level(of: .authorized)), priorityPrefix: false, timestamp: nil)
        #expect(line == "info change TOKEND_LIBRARY=ACTIVE TOKEND_ORGANISATION=acme TOKEND_STATUS=authorized\n")
    }

    @Test("a user's failure adds the error class and HTTP status; a person's action is an error, passing trouble a warning")
    func userFailure() {
        let failure = RefreshFailure(.grantDead, httpStatus: 400, oauthError: "invalid_grant", detail: "refused")
        let fields = GrantLogMetadata.fields(.user("BOB", of: "acme"), status: .needsReauth, failure: failure)
        #expect(Set(fields.keys) == ["TOKEND_ORGANISATION", "TOKEND_USER", "TOKEND_STATUS", "TOKEND_ERROR_CLASS", "TOKEND_HTTP_STATUS"])
        let datagram = JournalEntryEncoder.encode(record(fields, level: GrantLogMetadata.level(of: .needsReauth)), identifier: "imanage-tokend")
        let text = String(decoding: datagram, as: UTF8.self)
        for field in ["TOKEND_USER=BOB\n", "TOKEND_STATUS=needs_reauth\n", "TOKEND_ERROR_CLASS=grant_dead\n", "TOKEND_HTTP_STATUS=400\n", "PRIORITY=3\n"] {
            #expect(text.contains(field), "missing \(field)")
        }
        #expect(GrantLogMetadata.level(of: .retrying) == .warning)
        let network = GrantLogMetadata.fields(.user("BOB", of: "acme"), status: .retrying, failure: RefreshFailure(.transient, detail: "timed out"))
        #expect(network["TOKEND_ERROR_CLASS"] == "transient" && network["TOKEND_HTTP_STATUS"] == nil)
    }
}
