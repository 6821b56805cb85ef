import HuaweiCloudSigning

/// `X-Sdk-Date` formatting for tests that pin the date (to produce the same signature twice).
enum HuaweiCloudSigningDate {
    static func format(_ epochSeconds: Int64) -> String { SdkDate.format(epochSeconds: epochSeconds) }
}
