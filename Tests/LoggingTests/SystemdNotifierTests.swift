import Testing
@testable import TokendLogging

@Suite("sd_notify by hand")
struct SystemdNotifierTests {
    @Test func readyReachesASocketPath() throws {
        let receiver = try DatagramReceiver()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.name])
        #expect(notifier.isEnabled)
        #expect(notifier.ready())
        #expect(receiver.receive().map { String(decoding: $0, as: UTF8.self) } == "READY=1")
    }

    @Test func readyReachesAnAbstractSocket() throws {
        let receiver = try DatagramReceiver(abstract: true)
        #expect(receiver.name.hasPrefix("@"))
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.name])
        #expect(notifier.ready())
        #expect(receiver.receive().map { String(decoding: $0, as: UTF8.self) } == "READY=1")
    }

    @Test func otherStatesAreSentAsSystemdExpects() throws {
        let receiver = try DatagramReceiver()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.name])
        let next = { receiver.receive().map { String(decoding: $0, as: UTF8.self) } }
        notifier.reloading()
        let reloading = try #require(next())
        #expect(reloading.hasPrefix("RELOADING=1\nMONOTONIC_USEC="))
        #expect(UInt64(reloading.split(separator: "=").last ?? "") ?? 0 > 0)
        notifier.stopping()
        #expect(next() == "STOPPING=1")
        notifier.watchdog()
        #expect(next() == "WATCHDOG=1")
        notifier.status("3 libraries authorised\n1 needs attention")
        #expect(next() == "STATUS=3 libraries authorised 1 needs attention")
    }

    @Test func withoutNotifySocketNothingIsSent() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(!notifier.ready())
        #expect(!notifier.watchdog())
    }

    @Test func watchdogIntervalRespectsWatchdogPid() {
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"], processID: 7).watchdogInterval
            == .seconds(30))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "7"], processID: 7)
            .watchdogInterval == .seconds(30))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "8"], processID: 7)
            .watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "soon"], processID: 7).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: [:], processID: 7).watchdogInterval == nil)
    }
}
