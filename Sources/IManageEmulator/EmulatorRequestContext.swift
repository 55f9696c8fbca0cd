import Hummingbird
import NIOCore

/// The per-request context of the emulator's router. Besides what Hummingbird needs it
/// keeps the connection, so a "hang then drop" fault can close it without answering.
struct EmulatorRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        channel = source.channel
    }

    /// Bodies are forms and small JSON documents; nothing legitimate comes near this.
    var maxUploadSize: Int { 1024 * 1024 }
}
