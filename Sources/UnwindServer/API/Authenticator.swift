import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// Checks the bearer token of a request.
///
/// Both tokens are hashed before comparing so the comparison takes the same time whatever the length or the
/// first differing byte of what was sent; the digests are then compared without an early exit.
struct Authenticator: Sendable {
    enum Access: Sendable {
        case read, write
    }

    private let tokenDigest: [UInt8]?
    let publicReads: Bool

    init(token: String?, publicReads: Bool) {
        tokenDigest = token.map { Array(SHA256.hash(data: Data($0.utf8))) }
        self.publicReads = publicReads
    }

    var hasToken: Bool { tokenDigest != nil }

    /// Throws the 401/403 answer when the request may not do `access`.
    func authorize(_ request: Request, for access: Access) throws(APIError) {
        if access == .read && publicReads { return }
        guard let tokenDigest else {
            let hint = access == .read
                ? "set UNWIND_API_TOKEN_FILE (or UNWIND_API_TOKEN) for unwind serve, or start it with --public-reads to open reads"
                : "set UNWIND_API_TOKEN_FILE (or UNWIND_API_TOKEN) for unwind serve and send it as 'Authorization: Bearer TOKEN'"
            throw APIError(.forbidden, "no_token_configured", "no API token configured: \(hint)")
        }
        guard let header = request.headers[.authorization] else {
            throw .unauthorized("this call needs the API token: send 'Authorization: Bearer TOKEN'", invalidToken: false)
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw .unauthorized("the Authorization header must be 'Bearer TOKEN'", invalidToken: false)
        }
        let sent = Array(SHA256.hash(data: Data(parts[1].trimmingCharacters(in: .whitespaces).utf8)))
        var difference: UInt8 = 0
        for index in 0..<tokenDigest.count {
            difference |= tokenDigest[index] ^ sent[index]
        }
        guard difference == 0 else {
            throw .unauthorized("the API token is wrong; use the server's (its UNWIND_API_TOKEN_FILE or UNWIND_API_TOKEN)", invalidToken: true)
        }
    }
}
