import TokendPolicy

/// Waiting for a refresh's outcome without polling the store: take a ticket before asking for the
/// refresh (`requestRefresh`), then await it; the engine answers it when the outcome of an attempt
/// that began after the ticket is written.
extension RefreshEngine {
    /// A ticket the next attempt on grant `id` to begin answers. Await it with
    /// ``refreshOutcome(_:timeout:)``, or give it back with ``forget(_:)``.
    public func expectRefresh(ofGrant id: Int64) -> RefreshTicket {
        waiters.expect(id)
    }

    /// How the refresh `ticket` waits for ended, or `nil` when it had not ended within `timeout`.
    public func refreshOutcome(_ ticket: RefreshTicket, timeout: Duration) async -> RefreshEnd? {
        await waiters.outcome(of: ticket, timeout: timeout)
    }

    /// Gives back a ticket that will not be awaited (nothing needs doing after an awaited one).
    public func forget(_ ticket: RefreshTicket) {
        waiters.forget(ticket)
    }

    /// Tickets held now, awaited or not (a test's check that none leak).
    public var refreshTicketsHeld: Int { waiters.held }
}
