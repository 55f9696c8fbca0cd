import Logging
import Testing
@testable import TokendLogging

@Suite("journald native protocol")
struct JournalEntryTests {
    @Test func fieldNamesFollowJournalRules() {
        for valid in ["TOKEND_LIBRARY", "MESSAGE", "A", "X1_2", String(repeating: "A", count: 64)] {
            #expect(JournalEntryEncoder.isValidFieldName(valid), "\(valid)")
        }
        for invalid in ["", "_PID", "tokend_library", "TOKEND-LIBRARY", "1ABC", "TOKEND LIBRARY", "ÄB",
                        String(repeating: "A", count: 65)] {
            #expect(!JournalEntryEncoder.isValidFieldName(invalid), "\(invalid)")
        }
    }

    @Test func singleLineValuesUseKeyEqualsValue() {
        var datagram: [UInt8] = []
        JournalEntryEncoder.appendField("TOKEND_STATUS", "retrying", to: &datagram)
        #expect(datagram == Array("TOKEND_STATUS=retrying\n".utf8))
    }

    @Test func multiLineValuesUseTheBinaryForm() {
        var datagram: [UInt8] = []
        JournalEntryEncoder.appendField("MESSAGE", "a\nb", to: &datagram)
        #expect(datagram == Array("MESSAGE\n".utf8) + [3, 0, 0, 0, 0, 0, 0, 0] + Array("a\nb\n".utf8))
    }

    @Test func loggerSendsOneDatagramWithMetadataAsFields() throws {
        let receiver = try DatagramReceiver()
        let writer = LogWriter(destination: .journal(socketPath: receiver.name), identifier: "imanage-tokend")
        var logger = Logger(label: "test") { _ in TokendLogHandler(writer: writer, level: LogLevelSetting(.info)) }
        logger[metadataKey: "TOKEND_ORGANISATION"] = "acme"
        logger.warning("refresh failed\nsecond line", metadata: [
            "TOKEND_LIBRARY": "ACTIVE", "TOKEND_ERROR_CLASS": "transient", "TOKEND_HTTP_STATUS": "503",
            "request-id": "r1", "_PID": "1", "MESSAGE": "spoofed",
        ])

        let bytes = try #require(receiver.receive())
        let entry = try #require(JournalDatagram(bytes))
        #expect(entry["PRIORITY"] == "4")
        #expect(entry["SYSLOG_IDENTIFIER"] == "imanage-tokend")
        #expect(entry["TOKEND_ORGANISATION"] == "acme")
        #expect(entry["TOKEND_LIBRARY"] == "ACTIVE")
        #expect(entry["TOKEND_ERROR_CLASS"] == "transient")
        #expect(entry["TOKEND_HTTP_STATUS"] == "503")
        #expect(entry["CODE_FUNC"] != nil && entry["CODE_LINE"] != nil)
        #expect(entry.binaryFields == ["MESSAGE"])
        #expect(entry.names.filter { $0 == "MESSAGE" }.count == 1)
        #expect(entry["MESSAGE"] == #"refresh failed"# + "\nsecond line " + #"MESSAGE=spoofed _PID=1 request-id=r1"#)
        #expect(!entry.names.contains("_PID") && !entry.names.contains("request-id"))
    }

    @Test func singleLineMessageUsesTheTextForm() throws {
        let receiver = try DatagramReceiver()
        let writer = LogWriter(destination: .journal(socketPath: receiver.name))
        let logger = Logger(label: "test") { _ in TokendLogHandler(writer: writer, level: LogLevelSetting(.info)) }
        logger.info("authorised")
        let entry = try #require(receiver.receive().flatMap(JournalDatagram.init))
        #expect(entry["MESSAGE"] == "authorised")
        #expect(entry["PRIORITY"] == "6")
        #expect(entry.binaryFields.isEmpty)
    }

    @Test func withoutJournaldRecordsFallBackToStderrWithPriorityPrefix() {
        let pipe = CapturePipe()
        let writer = LogWriter(
            destination: .journal(socketPath: "/nonexistent/journal.socket"), fileDescriptor: pipe.writeEnd)
        let logger = Logger(label: "test") { _ in TokendLogHandler(writer: writer, level: LogLevelSetting(.info)) }
        logger.error("no journal", metadata: ["TOKEND_USER": "JSMITH"])
        #expect(pipe.drain() == "<3>error no journal TOKEND_USER=JSMITH\n")
    }

    @Test func journalStreamIsRecognisedOnlyForStderrsOwnDeviceAndInode() {
        #expect(JournalStream.parse("8:12345")! == (8, 12345))
        #expect(JournalStream.parse("8:x") == nil)
        #expect(JournalStream.parse("812345") == nil)
        #expect(!JournalStream.isStandardErrorJournal(environment: [:]))
        #expect(!JournalStream.isStandardErrorJournal(environment: ["JOURNAL_STREAM": "0:0"]))
        #expect(LogDestination.detect(environment: ["JOURNAL_STREAM": "0:0"])
            == .standardError(priorityPrefix: false, timestamps: true))
    }
}
