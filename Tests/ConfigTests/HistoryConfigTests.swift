import Foundation
import Testing
import TokendConfig

/// The `[history]` table: `keep_days`, its default, its range, and check-config's description of it.
@Suite struct HistoryConfigTests {
    @Test func keepDaysDefaultsTo400() throws {
        let fixture = try ConfigFixture()
        #expect(try fixture.load(ConfigFixture.minimal).history.keepDays == 400)
    }

    @Test func keepDaysIsRead() throws {
        let fixture = try ConfigFixture()
        let configuration = try fixture.load(ConfigFixture.minimal + "[history]\nkeep_days = 30\n")
        #expect(configuration.history.keepDays == 30)
        #expect(configuration.history.keep == 30 * 86_400)
    }

    @Test(arguments: ["0", "-5", "36501"])
    func keepDaysOutOfRangeIsRefusedWithItsLine(value: String) throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem(ConfigFixture.minimal + "[history]\nkeep_days = \(value)\n")
        #expect(problem.key == "[history].keep_days")
        #expect(problem.line == 7)
        #expect(problem.message.contains("a whole number of days from 1 to 36500"))
    }

    @Test func keepDaysMustBeAWholeNumber() throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem(ConfigFixture.minimal + "[history]\nkeep_days = \"30\"\n")
        #expect(problem.key == "[history].keep_days")
        let fractional = try fixture.problem(ConfigFixture.minimal + "[history]\nkeep_days = 1.5\n")
        #expect(fractional.key == "[history].keep_days")
    }

    @Test func unknownKeyInHistoryIsAProblem() throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem(ConfigFixture.minimal + "[history]\nkeep = 30\n")
        #expect(problem.key == "[history].keep")
        #expect(problem.message.contains("keep_days"))
    }

    @Test func historyMustBeATable() throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem("history = 30\n" + ConfigFixture.minimal)
        #expect(problem.key == "history")
    }

    @Test func effectiveDescriptionShowsKeepDays() throws {
        let fixture = try ConfigFixture()
        let text = try fixture.load(ConfigFixture.minimal + "[history]\nkeep_days = 30\n").effectiveDescription()
        #expect(text.contains("[history]\nkeep_days = 30"))
        let defaults = try fixture.load(ConfigFixture.minimal).effectiveDescription()
        #expect(defaults.contains("[history]\nkeep_days = 400"))
    }
}
