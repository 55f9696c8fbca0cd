import AsyncHTTPClient

/// One HTTP client for all tests; it never follows redirects, so tests see the 302s and 303s and
/// follow them by hand. Each request has a connection of its own: tests start and stop servers on
/// kernel-chosen ports all the time, and a kept-alive connection to a stopped server's port would
/// otherwise be handed to the next test that is given the same port (seen as resets and hangs).
public let testHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
    configuration.maximumUsesPerConnection = 1
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}()
