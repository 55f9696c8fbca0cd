import AsyncHTTPClient

/// One HTTP client for all tests of a target; it never follows redirects, so tests see the 302s and
/// 303s and follow them by hand.
public let testHTTPClient = HTTPClient(
    eventLoopGroupProvider: .singleton,
    configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))
