import Hummingbird
import NIOCore

/// Request context that keeps the connection's channel, so a fault can close the TCP connection itself.
public struct SimulatorRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
