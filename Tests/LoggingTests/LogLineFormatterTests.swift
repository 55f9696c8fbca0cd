import Logging
import Testing
@testable import TokendLogging

@Suite("key=value lines for stderr")
struct LogLineFormatterTests {
    private func record(_ message: String, _ fields: [(key: String, value: String)] = [], level: Logger.Level = .info)
        -> LogRecord
    {
        LogRecord(level: level, message: message, fields: fields)
    }

    @Test func plainLineHasLevelMessageAndPairs() {
        let line = LogLineFormatter.format(
            record("refreshed", [("TOKEND_LIBRARY", "ACTIVE"), ("TOKEND_ORGANISATION", "acme")]),
            priorityPrefix: false, timestamp: nil)
        #expect(line == "info refreshed TOKEND_LIBRARY=ACTIVE TOKEND_ORGANISATION=acme\n")
    }

    @Test func priorityPrefixAndTimestampOnlyWhenAsked() {
        let prefixed = LogLineFormatter.format(record("x", level: .warning), priorityPrefix: true, timestamp: nil)
        #expect(prefixed == "<4>warning x\n")
        let stamped = LogLineFormatter.format(
            record("x", level: .error), priorityPrefix: false, timestamp: "2026-01-02T03:04:05.006Z")
        #expect(stamped == "2026-01-02T03:04:05.006Z error x\n")
    }

    @Test func valuesWithSpacesQuotesOrEqualsAreQuotedAndEscaped() {
        let line = LogLineFormatter.format(
            record("m", [
                ("a", "two words"), ("b", #"say "hi""#), ("c", "k=v"), ("d", #"back\slash"#), ("e", ""),
                ("f", "plain"),
            ]),
            priorityPrefix: false, timestamp: nil)
        #expect(line == #"info m a="two words" b="say \"hi\"" c="k=v" d="back\\slash" e="" f=plain"# + "\n")
    }

    @Test func newlinesNeverSplitARecord() {
        let line = LogLineFormatter.format(
            record("first\nsecond\r\u{1B}[31m", [("TOKEND_STATUS", "a\nb\tc")]),
            priorityPrefix: true, timestamp: nil)
        #expect(line == #"<6>info first\nsecond\r\u{1B}[31m TOKEND_STATUS="a\nb\tc""# + "\n")
        #expect(line.filter { $0 == "\n" }.count == 1)
    }

    @Test func oddKeysStayOneToken() {
        let line = LogLineFormatter.format(record("m", [("bad key=", "v")]), priorityPrefix: false, timestamp: nil)
        #expect(line == "info m bad_key_=v\n")
    }

    @Test func timestampsAreRFC3339UTCWithMilliseconds() {
        #expect(Timestamp.format(seconds: 0, milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(seconds: 1_795_000_000, milliseconds: 42) == "2026-11-18T11:06:40.042Z")
        let now = Timestamp.now()
        #expect(now.count == 24 && now.hasSuffix("Z"))
    }

    @Test func handlerWritesOneLinePerRecordWithAllMetadataLayers() {
        let pipe = CapturePipe()
        let writer = LogWriter(
            destination: .standardError(priorityPrefix: false, timestamps: false), fileDescriptor: pipe.writeEnd)
        var logger = Logger(label: "test") { _ in TokendLogHandler(writer: writer, level: LogLevelSetting(.info)) }
        logger[metadataKey: "TOKEND_ORGANISATION"] = "acme"
        logger.info("refresh failed\nbadly", metadata: ["TOKEND_HTTP_STATUS": "503", "TOKEND_ORGANISATION": "other"])
        logger.debug("filtered out")
        logger.warning("second")

        let lines = pipe.drain().split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines == [
            #"info refresh failed\nbadly TOKEND_HTTP_STATUS=503 TOKEND_ORGANISATION=other"#,
            "warning second TOKEND_ORGANISATION=acme",
            "",
        ])
    }

    @Test func stderrLinesCarryATimestampWhenNotUnderSystemd() {
        let pipe = CapturePipe()
        let writer = LogWriter(
            destination: LogDestination.detect(environment: [:]), fileDescriptor: pipe.writeEnd)
        let logger = Logger(label: "test") { _ in TokendLogHandler(writer: writer, level: LogLevelSetting(.info)) }
        logger.notice("hello")
        let line = pipe.drain()
        #expect(line.hasSuffix("Z notice hello\n"))
        #expect(!line.hasPrefix("<"))
    }
}
