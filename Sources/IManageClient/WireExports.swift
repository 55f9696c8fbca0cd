// The client's answers are the wire's values (`IManageIdentity`, `IManageLibrary`,
// `IManageGroupMember`, `ResponseRedactor`, `ErrorCode`): whoever imports the client sees them.
@_exported import IManageWire
