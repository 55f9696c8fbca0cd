extension StatusReport {
    /// Records how many notifications wait in the outbox, with a note when some do.
    public mutating func countPendingNotifications(_ count: Int) {
        notificationsPending = count
        guard count > 0 else { return }
        let what = count == 1 ? "1 notification is" : "\(count) notifications are"
        notes.append(daemon.running
            ? "\(what) not yet delivered: the daemon keeps trying (journalctl -u imanage-tokend says why it fails)"
            : "\(what) not yet delivered: the daemon sends them when it runs (systemctl start imanage-tokend)")
    }
}
