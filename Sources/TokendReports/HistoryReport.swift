import Foundation
import TokendPolicy
import TokendStore

/// What `history` shows: status changes from the events table, oldest first (newest last).
public struct HistoryReport: Sendable, Encodable {
    public var events: [GrantEvent]

    public init(events: [GrantEvent]) {
        self.events = events
    }

    /// The store's filter for a report filter: a user given by email is looked up among the
    /// stored user grants (an unknown email is taken as a user id and matches nothing).
    /// - Throws: `AmbiguousUser` when the email is several users' of one organisation.
    public static func eventFilter(_ filter: ReportFilter, since: Date?, limit: Int?, users: [GrantRecord]) throws -> EventFilter {
        var subject = filter.library
        if let user = filter.user {
            let candidates = users.filter { filter.organisation == nil || $0.key.organisation == filter.organisation }
            switch UserLookup.find(user, among: candidates) {
            case .found(let record): subject = record.key.subject
            case .none: subject = user
            case .ambiguous(let ids):
                throw AmbiguousUser(email: user, organisation: filter.organisation ?? candidates.first?.key.organisation ?? "", ids: ids)
            }
        }
        return EventFilter(organisation: filter.organisation, kind: filter.kind, subject: subject, since: since, limit: limit)
    }

    enum CodingKeys: String, CodingKey { case events }

    /// `{"events": [{"at", "organisation", "kind", "id", "status", "previous_status", "error_class",
    /// "http_status", "message"}, …]}`, oldest first; every key present, unknown values `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(events.map(EventJSON.init), forKey: .events)
    }

    public func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// One line per event: time (RFC 3339 UTC), organisation, library or user, the change, the
    /// failure class and HTTP status, and the message.
    public func table(colour: Bool) -> String {
        guard !events.isEmpty else { return "no status changes match\n" }
        var table = TextTable(header: ["TIME", "ORGANISATION", "LIBRARY/USER", "CHANGE", "ERROR", "MESSAGE"])
        for event in events {
            let error = [event.errorClass, event.httpStatus.map { "HTTP \($0)" }].compactMap { $0 }.joined(separator: " ")
            let colourOfStatus: TextTable.Colour = switch event.status.severity {
            case .ok: event.status == .disabled ? .dim : .green
            case .warning: .yellow
            case .critical, .unknown: .red
            }
            table.append([
                TextTable.Cell(RFC3339.string(event.at)),
                TextTable.Cell(event.key.organisation),
                TextTable.Cell("\(event.key.kind.rawValue) \(event.key.subject)"),
                TextTable.Cell("\(event.previousStatus?.rawValue ?? "new") → \(event.status.rawValue)", colour: colourOfStatus),
                TextTable.Cell(error.isEmpty ? "-" : error),
                TextTable.Cell(TextTable.clip(event.message, to: 100)),
            ])
        }
        return table.render(colour: colour)
    }
}

private struct EventJSON: Encodable {
    let event: GrantEvent

    enum CodingKeys: String, CodingKey {
        case at, organisation, kind, id, status, previousStatus = "previous_status", errorClass = "error_class"
        case httpStatus = "http_status", message
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(RFC3339.string(event.at), forKey: .at)
        try container.encode(event.key.organisation, forKey: .organisation)
        try container.encode(event.key.kind.rawValue, forKey: .kind)
        try container.encode(event.key.subject, forKey: .id)
        try container.encode(event.status.rawValue, forKey: .status)
        try container.encode(event.previousStatus?.rawValue, forKey: .previousStatus)
        try container.encode(event.errorClass, forKey: .errorClass)
        try container.encode(event.httpStatus, forKey: .httpStatus)
        try container.encode(event.message, forKey: .message)
    }
}
