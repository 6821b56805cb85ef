import AsyncHTTPClient
import Foundation
@testable import HuaweiCloud
import HuaweiCloudSigning
import Logging

enum TestSupport {
    static let quietLogger = Logger(label: "huaweicloud-test") { _ in SwiftLogNoOpLogHandler() }
    static let credentials = HuaweiCredentials(accessKey: "AKTEST0000000001", secretKey: "SKSECRET-never-print-me-0001", securityToken: "TOKEN-never-print-me-0001")

    /// A client whose every service points at `baseURL`. Reads are not retried unless asked, so that each test
    /// sees the classification of exactly one answer.
    /// Generous: a loaded 2-core CI machine can take seconds to schedule a test server; tests of timeouts pass their own.
    static func client(
        baseURL: String, credentials: HuaweiCredentials = credentials, timeout: Duration = .seconds(60), readRetry: HuaweiCloudClient.ReadRetry = .none
    ) throws -> HuaweiCloudClient {
        let endpoints = try CloudEndpoints(region: "cn-north-4", override: baseURL)
        // The client production uses (no redirects followed), not AsyncHTTPClient's shared one.
        return HuaweiCloudClient(endpoints: endpoints, credentials: credentials, httpClient: CloudConnectionPool.processWide.httpClient,
                                 timeout: timeout, readRetry: readRetry, logger: quietLogger)
    }

    /// Runs `body` and returns the `CloudError` it throws (nil if it did not throw).
    static func cloudError(_ body: () async throws(CloudError) -> Void) async -> CloudError? {
        do { try await body() } catch { return error }
        return nil
    }

    static var fixturesDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }
}
