@testable import HuaweiCloud
import HuaweiCloudSigning
import Logging
import Testing

@Suite("Logging")
struct LoggingTests {
    @Test func requestsAreLoggedWithMetadataAndWithoutSecrets() async throws {
        let store = RecordingLogHandler.Store()
        let logger = Logger(label: "test") { _ in RecordingLogHandler(store: store) }
        let echo = "bad signature for \(TestSupport.credentials.secretKey)"
        let replies: [[UInt8]] = [
            RawHTTPServer.response(status: "200 OK", headers: [("X-Request-Id", "req-ok")], body: #"{"count":0,"workspaces":[]}"#),
            RawHTTPServer.response(status: "401 Unauthorized", headers: [("X-Request-Id", "req-bad")], body: #"{"error_code":"APIGW.0301","error_msg":"\#(echo)"}"#),
        ]
        let counter = RecordingLogHandler.Store()
        try await RawHTTPServer.with({ _ in
            counter.append("x")
            return .bytes(replies[min(counter.lines.count - 1, 1)], close: false)
        }) { server in
            let client = HuaweiCloudClient(endpoints: try CloudEndpoints(region: "cn-north-4", override: server.baseURL),
                                           credentials: TestSupport.credentials, logger: logger)
            _ = try await client.listWorkspaces(projectID: "p1")
            _ = await TestSupport.cloudError { () async throws(CloudError) in _ = try await client.listWorkspaces(projectID: "p1") }
        }
        let lines = store.lines
        #expect(lines.contains { $0.contains("cloud request") && $0.contains("cloud.request_id=req-ok") && $0.contains("http.status=200") })
        #expect(lines.contains { $0.contains("cloud request failed") && $0.contains("APIGW.0301") })
        for line in lines {
            #expect(!line.contains(TestSupport.credentials.secretKey))
            #expect(!line.contains(TestSupport.credentials.securityToken!))
        }
    }
}
