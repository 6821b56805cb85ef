#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Drops a TCP connection without an HTTP answer, the way a crashed gateway or a network fault does.
///
/// `SO_LINGER` with a zero timeout makes `close` send RST instead of FIN, so the client sees "connection reset
/// by peer" rather than a clean end of stream — the case retry logic must treat as "outcome unknown".
enum ConnectionResetter {
    static func reset(_ channel: any Channel) async {
        if let provider = channel as? any SocketOptionProvider {
            try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        try? await channel.close(mode: .all).get()
    }
}

/// Thrown after the connection was deliberately closed; Hummingbird's attempt to answer it goes nowhere.
struct ConnectionDeliberatelyClosed: Error, CustomStringConvertible {
    var description: String { "connection closed by an injected fault" }
}
