/// The OAuth client an organisation is registered as in iManage: its id and secret.
///
/// The secret never shows in `description`, `debugDescription` or a mirror (`dump`, string
/// interpolation), so a credentials value can be logged by mistake without leaking it.
public struct ClientCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public var clientID: String
    public var clientSecret: String

    public init(clientID: String, clientSecret: String) {
        self.clientID = clientID
        self.clientSecret = clientSecret
    }

    public var description: String { "ClientCredentials(clientID: \(clientID), clientSecret: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["clientID": clientID, "clientSecret": "<redacted>"], displayStyle: .struct)
    }
}
