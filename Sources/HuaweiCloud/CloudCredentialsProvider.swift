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
            let home = environment["HOME"] ?? NSHomeDirectory()
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
        let looked = "looked in the environment (\(keys.ak), \(keys.sk)) and in \(credentialsFile)"
        var info = stat()
        guard stat(credentialsFile, &info) == 0 else {
            throw failure(profile, "no credentials for profile '\(profile)': \(looked), which does not exist",
                          hint: "export \(keys.ak) and \(keys.sk), or create \(credentialsFile) with a [\(profile)] section holding ak= and sk= (mode 0600)")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw failure(profile, "credentials file \(credentialsFile) is not a regular file",
                          hint: "point UNWIND_CREDENTIALS_FILE at the file holding the [\(profile)] section, or export \(keys.ak) and \(keys.sk)")
        }
        // systemd's LoadCredential= (and the container examples in deploy/) own the files under
        // $CREDENTIALS_DIRECTORY: root-owned, mode 0400 plus a read ACL for the service's user alone, which stat
        // reports as 0440. Their protection is the platform's; anywhere else the file must be private.
        let platformManaged = isInCredentialsDirectory(credentialsFile)
        guard platformManaged || info.st_uid == geteuid() else {
            throw failure(profile, "credentials file \(credentialsFile) is owned by uid \(info.st_uid), not by the current user (uid \(geteuid())); refusing to read it",
                          hint: "run `chown $(id -u) \(credentialsFile)` and `chmod 600 \(credentialsFile)`")
        }
        let permissions = Int(info.st_mode) & 0o777
        guard platformManaged || permissions & 0o077 == 0 else {
            throw failure(profile, "credentials file \(credentialsFile) has mode 0\(String(permissions, radix: 8)) and can be read by other users; refusing to read it",
                          hint: "run `chmod 600 \(credentialsFile)`, then rotate the keys if others may have read them")
        }
        // The checks above run on every call; the file is read again only when it changed (keys rotated).
        let identity = FileIdentity(info)
        let sections: [String: [String: String]]
        if let cached = parsedFile.sections(for: identity) {
            sections = cached
        } else {
            let text: String
            do { text = try String(contentsOfFile: credentialsFile, encoding: .utf8) } catch {
                throw failure(profile, "credentials file \(credentialsFile) cannot be read", hint: "check that it is a UTF-8 text file readable by the current user")
            }
            sections = Self.parseINI(text)
            parsedFile.store(sections, for: identity)
        }
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

    /// `[section]` headers, `key = value` lines, `#` / `;` comment lines; keys are lower-cased.
    static func parseINI(_ text: String) -> [String: [String: String]] {
        func trimmed(_ text: Substring) -> Substring {
            let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
            guard let first = text.firstIndex(where: { !isBlank($0) }), let last = text.lastIndex(where: { !isBlank($0) }) else { return "" }
            return text[first...last]
        }
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = trimmed(rawLine)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                let name = String(trimmed(line.dropFirst().dropLast()))
                current = name
                sections[name, default: [:]] = sections[name] ?? [:]
                continue
            }
            guard let current, let eq = line.firstIndex(of: "=") else { continue }
            let key = trimmed(line[..<eq]).lowercased()
            let value = String(trimmed(line[line.index(after: eq)...]))
            sections[current]?[key] = value
        }
        return sections
    }

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

    private func failure(_ profile: String, _ message: String, hint: String) -> CloudError {
        CloudError(service: nil, operation: "load credentials for profile '\(profile)'", message: message, classification: .permanent, hint: hint)
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

/// The last parsed version of the credentials file, shared by the copies of one provider.
private final class ParsedFileCache: Sendable {
    private let entry = Mutex<(identity: FileIdentity, sections: [String: [String: String]])?>(nil)

    func sections(for identity: FileIdentity) -> [String: [String: String]]? {
        entry.withLock { $0?.identity == identity ? $0?.sections : nil }
    }

    func store(_ sections: [String: [String: String]], for identity: FileIdentity) {
        entry.withLock { $0 = (identity, sections) }
    }
}

extension CloudCredentialsProvider: CustomStringConvertible, CustomReflectable {
    /// Names the file only: the environment it holds contains secret keys.
    public var description: String { "CloudCredentialsProvider(credentialsFile: \(credentialsFile))" }
    /// `dump()` and debuggers see the file only, never the environment.
    public var customMirror: Mirror { Mirror(self, children: ["credentialsFile": credentialsFile]) }
}
