import Foundation
@testable import HuaweiCloud
import HuaweiCloudSigning
import Testing

@Suite("Credentials")
struct CredentialsTests {
    /// A private temporary directory holding one credentials file with the given text and mode.
    static func withFile(_ text: String, mode: Int, _ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("unwind-creds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("credentials").path
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return try body(path)
    }

    static let file = """
    # unwind credentials
    [default]
    ak = FILEDEFAULTAK
    sk = FILEDEFAULTSK-secret

    [customer-a]
    ak=FILEAAK
    sk = FILEASK-secret
    security_token = FILEATOKEN-secret
    ; trailing comment
    """

    static func error(_ body: () throws(CloudError) -> Void) -> CloudError? {
        do { try body() } catch { return error }
        return nil
    }

    @Test func defaultProfileFromTheSDKVariables() throws {
        let provider = CloudCredentialsProvider(environment: ["HUAWEICLOUD_SDK_AK": "ENVAK", "HUAWEICLOUD_SDK_SK": "ENVSK-secret",
                                                              "HUAWEICLOUD_SDK_SECURITY_TOKEN": "ENVTOKEN"], credentialsFile: "/nonexistent")
        #expect(try provider.credentials(profile: "default") == HuaweiCredentials(accessKey: "ENVAK", secretKey: "ENVSK-secret", securityToken: "ENVTOKEN"))
    }

    @Test func namedProfileFromUnwindVariables() throws {
        let provider = CloudCredentialsProvider(environment: ["UNWIND_PROFILE_CUSTOMER_A_AK": "AAK", "UNWIND_PROFILE_CUSTOMER_A_SK": "ASK-secret"],
                                                credentialsFile: "/nonexistent")
        #expect(try provider.credentials(profile: "customer-a") == HuaweiCredentials(accessKey: "AAK", secretKey: "ASK-secret"))
    }

    @Test func halfSetVariablesAreAnError() {
        let provider = CloudCredentialsProvider(environment: ["HUAWEICLOUD_SDK_AK": "ENVAK"], credentialsFile: "/nonexistent")
        let error = Self.error { () throws(CloudError) in _ = try provider.credentials(profile: "default") }
        #expect(error?.message == "HUAWEICLOUD_SDK_AK is set but HUAWEICLOUD_SDK_SK is not")
    }

    @Test func profilesFromAPrivateFile() throws {
        try Self.withFile(Self.file, mode: 0o600) { (path: String) throws in
            let provider = CloudCredentialsProvider(environment: [:], credentialsFile: path)
            #expect(try provider.credentials(profile: "default") == HuaweiCredentials(accessKey: "FILEDEFAULTAK", secretKey: "FILEDEFAULTSK-secret"))
            #expect(try provider.credentials(profile: "customer-a")
                == HuaweiCredentials(accessKey: "FILEAAK", secretKey: "FILEASK-secret", securityToken: "FILEATOKEN-secret"))
        }
        try Self.withFile(Self.file, mode: 0o400) { (path: String) throws in
            #expect(try CloudCredentialsProvider(environment: [:], credentialsFile: path).credentials(profile: "default").accessKey == "FILEDEFAULTAK")
        }
    }

    @Test func rotatedKeysAreReadAgainAndAFileMadePublicIsRefusedAtOnce() throws {
        try Self.withFile(Self.file, mode: 0o600) { (path: String) throws in
            let provider = CloudCredentialsProvider(environment: [:], credentialsFile: path)
            #expect(try provider.credentials(profile: "default").accessKey == "FILEDEFAULTAK")
            // Rotation by rename (the usual atomic write), same length: a new file, read again.
            let rotated = path + ".new"
            try Self.file.replacingOccurrences(of: "FILEDEFAULTAK", with: "ROTATEDKEYAK").write(toFile: rotated, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: rotated)
            #expect(rename(rotated, path) == 0)
            #expect(try provider.credentials(profile: "default").accessKey == "ROTATEDKEYAK")
            // Rewritten in place: read again too.
            try "[default]\nak = INPLACEAK\nsk = INPLACESK\n".write(toFile: path, atomically: false, encoding: .utf8)
            #expect(try provider.credentials(profile: "default").accessKey == "INPLACEAK")
            // The permission check is not cached away.
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
            let refused = Self.error { () throws(CloudError) in _ = try provider.credentials(profile: "default") }
            #expect(refused?.message.contains("can be read by other users") == true)
        }
    }

    /// A profile or key given twice might mean the wrong keys are used, and a stray line may be a key gone wrong:
    /// refused, by line number only (a line may hold a secret).
    @Test(arguments: [
        ("[a]\nak = A1\nsk = S1-secret\n[a]\nak = A2\nsk = S2-secret\n", "line 4 repeats the section [a] of line 1"),
        ("[a]\nak = A1\nsk = S1-secret\nsk = S9-secret\n", "line 4 sets 'sk' of [a] again (first on line 3)"),
        ("[a]\nak = A1\nS1-secret-without-a-key\nsk = S1-secret\n", "line 3 is neither a [section] header"),
        ("ak = A0\n[a]\nak = A1\nsk = S1-secret\n", "line 1 sets a key before any [section] header"),
        ("[a\nak = A1\nsk = S1-secret\n", "line 1 starts a [section] header without its closing ]"),
        ("[a]\nak = A1\nsk = S1-secret # the old key\n", "line 3: the value of 'sk' contains a blank (an inline comment?"),
        ("[a]\nak = A1\nsk = \"S1-secret\"\n", "line 3: the value of 'sk' contains a quote; write the value without quotes"),
        ("[a]\nak = 'A1'\nsk = S1-secret\n", "line 2: the value of 'ak' contains a quote"),
        ("[a]\nak = A1\nsk = S1-secret\nsecret_key = S2-secret\n", "line 4 sets a key that is not one of ak, security_token, sk"),
    ])
    func aMalformedFileIsRefusedByLine(_ text: String, _ problem: String) throws {
        try Self.withFile(text, mode: 0o600) { (path: String) throws in
            let error = Self.error { () throws(CloudError) in _ = try CloudCredentialsProvider(environment: [:], credentialsFile: path).credentials(profile: "a") }
            #expect(error?.message.contains(problem) == true, "\(error?.message ?? "no error")")
            #expect(error?.description.contains("secret") == false, "no line's text is shown")
        }
    }

    @Test func fileFromTheEnvironmentVariable() throws {
        try Self.withFile(Self.file, mode: 0o600) { (path: String) throws in
            let provider = CloudCredentialsProvider(environment: ["UNWIND_CREDENTIALS_FILE": path])
            #expect(provider.credentialsFile == path)
            #expect(try provider.credentials(profile: "customer-a").accessKey == "FILEAAK")
        }
    }

    @Test func environmentWinsOverTheFile() throws {
        try Self.withFile(Self.file, mode: 0o600) { (path: String) throws in
            let provider = CloudCredentialsProvider(environment: ["HUAWEICLOUD_SDK_AK": "ENVAK", "HUAWEICLOUD_SDK_SK": "ENVSK"], credentialsFile: path)
            #expect(try provider.credentials(profile: "default").accessKey == "ENVAK")
        }
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o666])
    func fileReadableByOthersIsRefused(mode: Int) throws {
        try Self.withFile(Self.file, mode: mode) { (path: String) throws in
            let provider = CloudCredentialsProvider(environment: [:], credentialsFile: path)
            let error = try #require(Self.error { () throws(CloudError) in _ = try provider.credentials(profile: "default") })
            // Retryable: an operator fixes the mode in seconds, and the steps that met it go on. Permanent, a few
            // seconds of a wrong mode failed every teardown of a fleet that read the file then, for good.
            #expect(error.isRetryable)
            #expect(error.message.contains("has mode 0\(String(mode, radix: 8))"))
            #expect(error.hint?.contains("chmod 600 \(path)") == true)
            #expect(!error.description.contains("FILEDEFAULTSK-secret"))
        }
    }

    @Test func missingProfileNamesTheProfileAndWhereItLooked() throws {
        try Self.withFile(Self.file, mode: 0o600) { (path: String) throws in
            let provider = CloudCredentialsProvider(environment: [:], credentialsFile: path)
            let error = try #require(Self.error { () throws(CloudError) in _ = try provider.credentials(profile: "customer-b") })
            #expect(error.operation == "load credentials for profile 'customer-b'")
            #expect(error.message.contains("UNWIND_PROFILE_CUSTOMER_B_AK") && error.message.contains(path))
            #expect(error.message.contains("no [customer-b] section") && error.message.contains("customer-a, default"))
            #expect(!error.description.contains("secret"))
        }
    }

    /// A directory (a mistyped path) gets no chmod advice, which would open up the directory.
    @Test func aDirectoryIsNotACredentialsFile() throws {
        let directory = NSTemporaryDirectory() + "unwind-credentials-dir-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let provider = CloudCredentialsProvider(environment: [:], credentialsFile: directory)
        let error = try #require(Self.error { () throws(CloudError) in _ = try provider.credentials(profile: "default") })
        #expect(error.message.contains("is not a regular file"), "\(error.message)")
        #expect(error.hint?.contains("chmod") == false)
    }

    @Test func missingFileIsNamed() {
        let provider = CloudCredentialsProvider(environment: ["HOME": "/home/nobody-here"])
        #expect(provider.credentialsFile == "/home/nobody-here/.config/unwind/credentials")
        let error = Self.error { () throws(CloudError) in _ = try provider.credentials(profile: "default") }
        #expect(error?.message.contains("HUAWEICLOUD_SDK_AK") == true)
        #expect(error?.message.contains("/home/nobody-here/.config/unwind/credentials, which does not exist") == true)
    }

    @Test func sectionWithoutSecretKey() throws {
        try Self.withFile("[p]\nak = X\n", mode: 0o600) { (path: String) throws in
            let error = Self.error { () throws(CloudError) in _ = try CloudCredentialsProvider(environment: [:], credentialsFile: path).credentials(profile: "p") }
            #expect(error?.message == "section [p] of \(path) has no sk")
        }
    }

    @Test func invalidProfileName() {
        let error = Self.error { () throws(CloudError) in _ = try CloudCredentialsProvider(environment: [:]).credentials(profile: "../etc") }
        #expect(error?.message == "profile name '../etc' is invalid")
    }

    @Test func secretsNeverInDescriptions() throws {
        let credentials = HuaweiCredentials(accessKey: "AK", secretKey: "SK-very-secret", securityToken: "TOKEN-very-secret")
        #expect(!"\(credentials)".contains("SK-very-secret"))
        let client = try TestSupport.client(baseURL: "http://127.0.0.1:1", credentials: credentials, timeout: .seconds(5))
        var dumped = ""
        dump(client, to: &dumped)
        for text in ["\(client)", String(reflecting: client), dumped] {
            #expect(!text.contains("SK-very-secret") && !text.contains("TOKEN-very-secret"))
        }
        #expect("\(client)" == "HuaweiCloudClient(region: cn-north-4, accessKey: AK, timeout: 5 s)")

        let provider = CloudCredentialsProvider(environment: ["HUAWEICLOUD_SDK_AK": "AK", "HUAWEICLOUD_SDK_SK": "SK-very-secret"], credentialsFile: "/x")
        var dumpedProvider = ""
        dump(provider, to: &dumpedProvider)
        for text in ["\(provider)", String(reflecting: provider), dumpedProvider] {
            #expect(!text.contains("SK-very-secret"))
        }
    }
}

@Suite("Endpoints")
struct EndpointTests {
    @Test func regionalAndGlobalURLs() throws {
        let endpoints = try CloudEndpoints(region: "cn-north-4")
        #expect(endpoints.baseURL(for: .ecs) == "https://ecs.cn-north-4.myhuaweicloud.com")
        #expect(endpoints.baseURL(for: .vpcep) == "https://vpcep.cn-north-4.myhuaweicloud.com")
        #expect(endpoints.baseURL(for: .secmaster) == "https://secmaster.cn-north-4.myhuaweicloud.com")
        #expect(endpoints.baseURL(for: .bss) == "https://bss.myhuaweicloud.com")
        #expect(try CloudEndpoints(region: "ap-southeast-1", bssEndpoint: "https://bss-intl.myhuaweicloud.com/").baseURL(for: .bss) == "https://bss-intl.myhuaweicloud.com")
    }

    @Test func overrideReplacesEveryService() throws {
        let endpoints = try CloudEndpoints.fromEnvironment(region: "cn-north-4", environment: ["UNWIND_CLOUD_ENDPOINT": "http://127.0.0.1:9090/"])
        for service in CloudService.allCases { #expect(endpoints.baseURL(for: service) == "http://127.0.0.1:9090") }
        // An explicit flag wins over the environment.
        let flagged = try CloudEndpoints.fromEnvironment(region: "cn-north-4", override: "http://localhost:1", environment: ["UNWIND_CLOUD_ENDPOINT": "http://x:2"])
        #expect(flagged.baseURL(for: .ecs) == "http://localhost:1")
    }

    @Test(arguments: ["ftp://x", "not a url", "http://", "https://host?x=1", "https://user:pw@host"])
    func badOverridesAreRefused(_ text: String) {
        do {
            _ = try CloudEndpoints(region: "cn-north-4", override: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.classification == .permanent)
            #expect(error.message.contains("UNWIND_CLOUD_ENDPOINT"))
            #expect(!error.description.contains("pw@"), "a password in the URL is not repeated: \(error.description)")
        }
    }

    @Test func badRegionIsRefused() {
        #expect(throws: CloudError.self) { try CloudEndpoints(region: "CN North 4") }
    }
}
