import Logging
import Testing
@testable import TokendLogging

@Suite("log levels")
struct LogLevelTests {
    @Test func namesParseInAnyCase() {
        #expect(Logger.Level(name: "DEBUG") == .debug)
        #expect(Logger.Level(name: " warn ") == .warning)
        #expect(Logger.Level(name: "loud") == nil)
    }

    @Test func levelComesFromFlagThenEnvironmentThenInfo() {
        #expect(TokendLoggingSystem.level(explicit: .error, environment: ["IMANAGE_TOKEND_LOG_LEVEL": "debug"]) == .error)
        #expect(TokendLoggingSystem.level(environment: ["IMANAGE_TOKEND_LOG_LEVEL": "debug"]) == .debug)
        #expect(TokendLoggingSystem.level(environment: ["IMANAGE_TOKEND_LOG_LEVEL": "nonsense"]) == .info)
        #expect(TokendLoggingSystem.level(environment: [:]) == .info)
    }

    @Test func syslogPrioritiesFollowSyslog() {
        #expect(Logger.Level.allCases.map(\.syslogPriority) == [7, 7, 6, 5, 4, 3, 2])
    }

    @Test func sharedLevelChangesEveryLoggerThatDidNotSetItsOwn() {
        let pipe = CapturePipe()
        let writer = LogWriter(
            destination: .standardError(priorityPrefix: false, timestamps: false), fileDescriptor: pipe.writeEnd)
        let shared = LogLevelSetting(.warning)
        let logger = Logger(label: "a") { _ in TokendLogHandler(writer: writer, level: shared) }
        var own = Logger(label: "b") { _ in TokendLogHandler(writer: writer, level: shared) }
        own.logLevel = .error
        logger.info("hidden")
        shared.level = .debug
        logger.debug("shown")
        own.warning("hidden too")
        #expect(pipe.drain() == "debug shown\n")
        #expect(logger.logLevel == .debug && own.logLevel == .error)
    }
}
