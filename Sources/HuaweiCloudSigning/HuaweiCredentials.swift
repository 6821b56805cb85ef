/// An access key / secret key pair as issued by Huawei Cloud IAM.
///
/// `securityToken` is set only for temporary credentials; the SDKs then add (and sign) `X-Security-Token`.
public struct HuaweiCredentials: Sendable, Hashable {
    public var accessKey: String
    public var secretKey: String
    public var securityToken: String?

    public init(accessKey: String, secretKey: String, securityToken: String? = nil) {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.securityToken = securityToken
    }
}

extension HuaweiCredentials: CustomStringConvertible {
    /// Never prints the secret key: credentials end up in log lines and test failure messages.
    public var description: String { "HuaweiCredentials(accessKey: \(accessKey), secretKey: <redacted>)" }
}
