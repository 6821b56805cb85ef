#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import HuaweiCloudSigning
import Synchronization

/// Resolves a named credentials profile to an AK/SK (and optional security token).
///
/// The database stores only the profile *name*; keys live in the environment or in a private file:
///
/// - profile `default`: `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK` and optionally `HUAWEICLOUD_SDK_SECURITY_TOKEN`
///   (the variables the official SDKs read);
/// - any profile `NAME`: `UNWIND_PROFILE_<NAME>_AK`, `_SK`, `_SECURITY_TOKEN` (name upper-cased, `-` → `_`);
/// - otherwise the INI file `$UNWIND_CREDENTIALS_FILE` (default `~/.config/unwind/credentials`):
///
///   ```ini
///   [default]
///   ak = ...
///   sk = ...
///   security_token = ...   ; optional
///   ```
///
///   which must be owned by the current user and readable by nobody else (mode 0600 or 0400), unless it lies in
///   `$CREDENTIALS_DIRECTORY` (systemd `LoadCredential=`), whose files the platform protects.
public struct CloudCredentialsProvider: Sendable {
    /// Private: it holds every variable of the process, secret keys included.
    private let environment: [String: String]
    /// The credentials file this provider reads (after applying `UNWIND_CREDENTIALS_FILE` and the default).
    public let credentialsFile: String
    /// The file's sections as last parsed. Every step that calls the cloud resolves its profile here, and a fleet's
    /// file holds a section per account: parsing it per call made a 1,000-account teardown quadratic.
    private let parsedFile = ParsedFileCache()

    public static let fileEnvironmentKey = "UNWIND_CREDENTIALS_FILE"

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, credentialsFile: String? = nil) {
        self.environment = environment
        if let credentialsFile {
            self.credentialsFile = credentialsFile
        } else if let fromEnvironment = environment[Self.fileEnvironmentKey], !fromEnvironment.isEmpty {
            self.credentialsFile = fromEnvironment
        } else {
            // An empty or relative HOME would look for the file relative to / or the current directory.
            let home = environment["HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
                ?? getpwuid(getuid()).flatMap { $0.pointee.pw_dir.map { String(cString: $0) } } ?? NSHomeDirectory()
            self.credentialsFile = home + "/.config/unwind/credentials"
        }
    }

    /// True when `path` lies inside `$CREDENTIALS_DIRECTORY` (both resolved, so `..` and symlinks cannot fake it).
    private func isInCredentialsDirectory(_ path: String) -> Bool {
        guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else { return false }
        let root = URL(fileURLWithPath: directory).resolvingSymlinksInPath().standardizedFileURL.path
        let file = URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
        return root != "/" && file.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    /// The environment variable names consulted for `profile`.
    public static func environmentKeys(profile: String) -> (ak: String, sk: String, token: String) {
        if profile == "default" {
            return ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN")
        }
        // Without Foundation's `replacingOccurrences`: every step that calls the cloud resolves its profile here.
        let name = String(profile.uppercased().map { $0 == "-" ? "_" : $0 })
        return ("UNWIND_PROFILE_\(name)_AK", "UNWIND_PROFILE_\(name)_SK", "UNWIND_PROFILE_\(name)_SECURITY_TOKEN")
    }

    public func credentials(profile: String) throws(CloudError) -> HuaweiCredentials {
        guard Self.isValidProfileName(profile) else {
            throw failure(profile, "profile name '\(profile)' is invalid", hint: "use letters, digits, '-' and '_' only (at most 64 characters)")
        }
        let keys = Self.environmentKeys(profile: profile)
        let ak = nonEmpty(environment[keys.ak])
        let sk = nonEmpty(environment[keys.sk])
        switch (ak, sk) {
        case let (ak?, sk?):
            return HuaweiCredentials(accessKey: ak, secretKey: sk, securityToken: nonEmpty(environment[keys.token]))
        case (_?, nil):
            throw failure(profile, "\(keys.ak) is set but \(keys.sk) is not", hint: "set both variables, or neither to use \(credentialsFile)")
        case (nil, _?):
            throw failure(profile, "\(keys.sk) is set but \(keys.ak) is not", hint: "set both variables, or neither to use \(credentialsFile)")
        case (nil, nil):
            return try fromFile(profile: profile, keys: keys)
        }
    }

    private func fromFile(profile: String, keys: (ak: String, sk: String, token: String)) throws(CloudError) -> HuaweiCredentials {
        // Only for the messages below: built when one is, not on every call of every step.
        var looked: String { "looked in the environment (\(keys.ak), \(keys.sk)) and in \(credentialsFile)" }
        var info = stat()
        guard stat(credentialsFile, &info) == 0 else {
            throw failure(profile, "no credentials for profile '\(profile)': \(looked), which does not exist",
                          hint: "export \(keys.ak) and \(keys.sk), or create \(credentialsFile) with a [\(profile)] section holding ak= and sk= (mode 0600)")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw failure(profile, "credentials file \(credentialsFile) is not a regular file",
                          hint: "point UNWIND_CREDENTIALS_FILE at the file holding the [\(profile)] section, or export \(keys.ak) and \(keys.sk)", retryable: true)
        }
        // systemd's LoadCredential= (and the container examples in deploy/) own the files under
        // $CREDENTIALS_DIRECTORY: root-owned, mode 0400 plus a read ACL for the service's user alone, which stat
        // reports as 0440. Their protection is the platform's; anywhere else the file must be private.
        let platformManaged = isInCredentialsDirectory(credentialsFile)
        guard platformManaged || info.st_uid == geteuid() else {
            throw failure(profile, "credentials file \(credentialsFile) is owned by uid \(info.st_uid), not by the current user (uid \(geteuid())); refusing to read it",
                          hint: "run `chown $(id -u) \(credentialsFile)` and `chmod 600 \(credentialsFile)`", retryable: true)
        }
        let permissions = Int(info.st_mode) & 0o777
        guard platformManaged || permissions & 0o077 == 0 else {
            throw failure(profile, "credentials file \(credentialsFile) has mode 0\(String(permissions, radix: 8)) and can be read by other users; refusing to read it",
                          hint: "run `chmod 600 \(credentialsFile)`, then rotate the keys if others may have read them", retryable: true)
        }
        // The checks above run on every call; the file is read again only when it changed (keys rotated).
        let identity = FileIdentity(info)
        let parsed: ParsedCredentials
        if let cached = parsedFile.parsed(for: identity) {
            parsed = cached
        } else {
            let text: String
            do { text = try String(contentsOfFile: credentialsFile, encoding: .utf8) } catch {
                throw failure(profile, "credentials file \(credentialsFile) cannot be read", hint: "check that it is a UTF-8 text file readable by the current user", retryable: true)
            }
            parsed = Self.parseINI(text)
            parsedFile.store(parsed, for: identity)
        }
        // A section or key written twice could mean the wrong keys are used; a line that is neither a header, a
        // key nor a comment may be a key gone wrong. Named by line number only: lines may hold secrets.
        if let problem = parsed.problems.first {
            throw failure(profile, "credentials file \(credentialsFile): \(problem)",
                          hint: "fix that line (each [profile] once, ak/sk/security_token once per profile, `key = value` lines and # comments only)", retryable: true)
        }
        let sections = parsed.sections
        guard let section = sections[profile] else {
            let known = sections.keys.sorted().joined(separator: ", ")
            throw failure(profile, "no credentials for profile '\(profile)': \(looked), which has no [\(profile)] section" + (known.isEmpty ? "" : " (it has: \(known))"),
                          hint: "add a [\(profile)] section with ak= and sk= to \(credentialsFile), or export \(keys.ak) and \(keys.sk)")
        }
        guard let ak = nonEmpty(section["ak"]) else {
            throw failure(profile, "section [\(profile)] of \(credentialsFile) has no ak", hint: "add `ak = <access key id>` to the section")
        }
        guard let sk = nonEmpty(section["sk"]) else {
            throw failure(profile, "section [\(profile)] of \(credentialsFile) has no sk", hint: "add `sk = <secret access key>` to the section")
        }
        return HuaweiCredentials(accessKey: ak, secretKey: sk, securityToken: nonEmpty(section["security_token"]))
    }

    /// `[section]` headers, `key = value` lines, `#` / `;` comment lines; keys are lower-cased. Anything else, and
    /// a section or a key within one given twice, is a problem (by line number, never the line's text).
    static func parseINI(_ text: String) -> ParsedCredentials {
        func trimmed(_ text: Substring) -> Substring {
            let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
            guard let first = text.firstIndex(where: { !isBlank($0) }), let last = text.lastIndex(where: { !isBlank($0) }) else { return "" }
            return text[first...last]
        }
        var parsed = ParsedCredentials()
        var headerLine: [String: Int] = [:]
        var keyLine: [String: Int] = [:]
        var current: String?
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let number = index + 1
            let line = trimmed(rawLine)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else {
                    parsed.problems.append("line \(number) starts a [section] header without its closing ]")
                    current = nil
                    continue
                }
                let name = String(trimmed(line.dropFirst().dropLast()))
                if let first = headerLine[name] {
                    parsed.problems.append("line \(number) repeats the section [\(name)] of line \(first)")
                } else {
                    headerLine[name] = number
                }
                current = name
                parsed.sections[name, default: [:]] = parsed.sections[name] ?? [:]
                continue
            }
            guard let eq = line.firstIndex(of: "=") else {
                parsed.problems.append("line \(number) is neither a [section] header, a `key = value` line nor a # comment")
                continue
            }
            guard let current else {
                parsed.problems.append("line \(number) sets a key before any [section] header")
                continue
            }
            let key = trimmed(line[..<eq]).lowercased()
            let value = trimmed(line[line.index(after: eq)...])
            guard Self.knownKeys.contains(key) else {
                // Not echoed: a wrapped token line ("…+abc==") would show part of a secret as its "key".
                parsed.problems.append("line \(number) sets a key that is not one of \(Self.knownKeys.sorted().joined(separator: ", "))")
                continue
            }
            // Keys and tokens never hold blanks: one there is most likely an inline comment, which would become
            // part of the secret and fail every call with a signature error.
            if value.contains(where: { $0 == " " || $0 == "\t" }) {
                parsed.problems.append("line \(number): the value of '\(key)' contains a blank (an inline comment? put comments on a line of their own)")
                continue
            }
            // Nor quotes: `sk = "…"` (as in a shell or TOML file) would sign every call with the quotes as part
            // of the key, and fail with a signature error that names nothing.
            if value.contains(where: { $0 == "\"" || $0 == "'" }) {
                parsed.problems.append("line \(number): the value of '\(key)' contains a quote; write the value without quotes")
                continue
            }
            if let first = keyLine[current + "\u{0}" + key] {
                parsed.problems.append("line \(number) sets '\(key)' of [\(current)] again (first on line \(first))")
            } else {
                keyLine[current + "\u{0}" + key] = number
            }
            parsed.sections[current]?[String(key)] = String(value)
        }
        return parsed
    }

    /// The keys a profile section may set.
    static let knownKeys: Set<String> = ["ak", "sk", "security_token"]

    static func isValidProfileName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
        }
    }

    private func nonEmpty(_ value: String?) -> String? {
        guard let value else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The code of a credentials file that cannot be used as it is (mode, owner, content): retryable, since a worker's
    /// step goes on once it is fixed, but it waits for that fix.
    public static let fileProblemCode = "credentials_file"

    /// `retryable` for the state of the credentials file (unreadable, readable by others, owned by another user,
    /// malformed): a local condition an operator fixes in seconds, or a file caught mid-rotation. Permanent, a few
    /// seconds of a wrong mode failed every teardown of a fleet that read it then, for good. A missing file,
    /// profile or key stays permanent: a mistake in what was submitted, said at once.
    private func failure(_ profile: String, _ message: String, hint: String, retryable: Bool = false) -> CloudError {
        CloudError(service: nil, operation: "load credentials for profile '\(profile)'", code: retryable ? Self.fileProblemCode : nil,
                   message: message, classification: retryable ? .retryable(retryAfter: nil) : .permanent, hint: hint)
    }
}

/// What identifies one version of the credentials file: a rotation (rewrite or rename over it) changes it.
private struct FileIdentity: Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modifiedSeconds: Int
    var modifiedNanoseconds: Int

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        #if canImport(Darwin)
        modifiedSeconds = Int(info.st_mtimespec.tv_sec)
        modifiedNanoseconds = Int(info.st_mtimespec.tv_nsec)
        #else
        modifiedSeconds = Int(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int(info.st_mtim.tv_nsec)
        #endif
    }
}

/// A credentials file read: its sections, and what is wrong with it.
struct ParsedCredentials: Sendable {
    var sections: [String: [String: String]] = [:]
    var problems: [String] = []
}

/// The last parsed version of the credentials file, shared by the copies of one provider.
private final class ParsedFileCache: Sendable {
    private let entry = Mutex<(identity: FileIdentity, parsed: ParsedCredentials)?>(nil)

    func parsed(for identity: FileIdentity) -> ParsedCredentials? {
        entry.withLock { $0?.identity == identity ? $0?.parsed : nil }
    }

    func store(_ parsed: ParsedCredentials, for identity: FileIdentity) {
        entry.withLock { $0 = (identity, parsed) }
    }
}

extension CloudCredentialsProvider: CustomStringConvertible, CustomReflectable {
    /// Names the file only: the environment it holds contains secret keys.
    public var description: String { "CloudCredentialsProvider(credentialsFile: \(credentialsFile))" }
    /// `dump()` and debuggers see the file only, never the environment.
    public var customMirror: Mirror { Mirror(self, children: ["credentialsFile": credentialsFile]) }
}
