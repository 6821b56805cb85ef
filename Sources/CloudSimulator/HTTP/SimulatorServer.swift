import Hummingbird
import Logging
import NIOCore

/// Builds the Hummingbird application serving one `Simulator` on one address.
public enum SimulatorServer {
    /// - Parameter onRunning: called with the bound port once the server listens (useful with port 0).
    public static func application(
        simulator: Simulator, host: String, port: Int, adminToken: String?, logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            responder: SimulatorResponder(simulator: simulator, adminToken: adminToken),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "unwind-cloudsim"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }
}
