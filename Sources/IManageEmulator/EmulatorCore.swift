import Synchronization

/// The shared heart of one running emulator: its state behind one lock, its faults, its
/// request counters, and the place where hanging requests wait. Route handlers and the
/// public control methods both work through it.
final class EmulatorCore: Sendable {
    let state: Mutex<EmulatorState>
    let faults = FaultBook()
    let counters = RequestCounters()
    let hangs = HangRelease()

    init(_ configuration: EmulatorConfiguration) {
        state = Mutex(EmulatorState(configuration))
    }

    /// Removes every fault and lets requests held by them go.
    func clearFaults() {
        let installed = faults.list()
        faults.removeAll()
        for entry in installed { hangs.release(faultID: entry.id) }
        hangs.releaseAll()
    }

    /// Removes one fault and lets requests held by it go; false when there was none.
    func removeFault(id: Int) -> Bool {
        let removed = faults.remove(id: id)
        hangs.release(faultID: id)
        return removed
    }
}
