import Hummingbird
import NIOCore

/// A token API request's context: Hummingbird's, plus the connection, so a route can ask the
/// kernel who its peer is.
struct TokenAPIRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    var maxUploadSize: Int { 64 * 1024 }
}
