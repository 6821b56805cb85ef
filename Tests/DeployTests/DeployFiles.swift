import Foundation
import Testing
import UnwindTesting
import Yams

/// Paths and loaders for the files under deploy/. The YAML is read as plain `Any` trees (what `kubectl` and
/// `docker compose` see), so these tests check the files, not Swift models of them.
enum DeployFiles {
    static var root: String { TestEnvironment.repositoryRoot }
    static var deploy: String { root + "/deploy" }

    /// Every `*.yaml` / `*.yml` under deploy/, relative to the repository root, sorted.
    static func yamlFiles() -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: deploy) else { return [] }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            if relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") { found.append("deploy/" + relative) }
        }
        return found.sorted()
    }

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: root + "/" + relative, encoding: .utf8)
    }

    /// All documents of a (possibly multi-document) YAML file; empty documents (a trailing `---`) are dropped.
    /// A parse error fails with the file name and Yams' message (line and column).
    static func documents(_ relative: String) throws -> [Any] {
        var sequence = try Yams.load_all(yaml: try text(relative))
        var documents: [Any] = []
        while let document = sequence.next() {
            if !(document is NSNull) { documents.append(document) }
        }
        if let error = sequence.error {
            throw DeployFileError("\(relative): \(error)")
        }
        return documents
    }

    static func document(_ relative: String) throws -> YAMLValue {
        let all = try documents(relative)
        guard all.count == 1 else { throw DeployFileError("\(relative): expected one YAML document, found \(all.count)") }
        return YAMLValue(all[0])
    }
}

struct DeployFileError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A read-only view of a parsed YAML node with lenient accessors: a missing key gives `.missing`, and scalars
/// read as strings whatever YAML resolved them to (`8080`, `true`), as Kubernetes and Compose accept both.
struct YAMLValue: CustomStringConvertible {
    let raw: Any?

    init(_ raw: Any?) { self.raw = raw }

    static var missing: YAMLValue { YAMLValue(nil) }

    subscript(key: String) -> YAMLValue {
        guard let map = raw as? [AnyHashable: Any] else { return .missing }
        return YAMLValue(map[AnyHashable(key)])
    }

    var exists: Bool { raw != nil && !(raw is NSNull) }
    var map: [String: YAMLValue] {
        guard let map = raw as? [AnyHashable: Any] else { return [:] }
        var result: [String: YAMLValue] = [:]
        for (key, value) in map { result["\(key.base)"] = YAMLValue(value) }
        return result
    }
    var keys: [String] { map.keys.sorted() }
    var list: [YAMLValue] { (raw as? [Any])?.map(YAMLValue.init) ?? [] }
    var string: String? {
        switch raw {
        case let text as String: return text
        case let number as Int: return String(number)
        case let flag as Bool: return flag ? "true" : "false"
        case let number as Double: return String(number)
        default: return nil
        }
    }
    var strings: [String] { list.compactMap(\.string) }
    var int: Int? {
        if let number = raw as? Int { return number }
        return string.flatMap { Int($0) }
    }
    var bool: Bool? {
        if let flag = raw as? Bool { return flag }
        return nil
    }

    var description: String { raw.map { "\($0)" } ?? "<missing>" }
}

/// Seconds of a Go/systemd-style duration as Unwind's flags take it: `90s`, `2m`, `1m30s`, `500ms`.
func durationSeconds(_ text: String) -> Double? {
    var total = 0.0
    var number = ""
    var rest = Substring(text)
    guard !rest.isEmpty else { return nil }
    while let character = rest.first {
        if character.isNumber || character == "." {
            number.append(character)
            rest = rest.dropFirst()
            continue
        }
        guard let value = Double(number) else { return nil }
        number = ""
        if rest.hasPrefix("ms") { total += value / 1000; rest = rest.dropFirst(2) }
        else if rest.hasPrefix("s") { total += value; rest = rest.dropFirst() }
        else if rest.hasPrefix("m") { total += value * 60; rest = rest.dropFirst() }
        else if rest.hasPrefix("h") { total += value * 3600; rest = rest.dropFirst() }
        else { return nil }
    }
    if !number.isEmpty { return nil }
    return total
}

/// The value following `flag` in an argument list (`--grace 30s` or `--grace=30s`).
func flagValue(_ flag: String, in arguments: [String]) -> String? {
    for (index, argument) in arguments.enumerated() {
        if argument == flag, index + 1 < arguments.count { return arguments[index + 1] }
        if argument.hasPrefix(flag + "=") { return String(argument.dropFirst(flag.count + 1)) }
    }
    return nil
}

/// Names that hold a secret when they carry a value inline (their `_FILE` variants are fine: a path).
func looksLikeSecretName(_ name: String) -> Bool {
    let upper = name.uppercased()
    if upper.hasSuffix("_FILE") || upper.hasSuffix("_DIRECTORY") { return false }
    return ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "PRIVATE_KEY", "CREDENTIALS"].contains { upper.contains($0) }
        || upper.hasSuffix("_SK") || upper.hasSuffix("_AK")
}

/// A PostgreSQL URL with a password in it (`scheme://user:password@host`).
func urlCarriesPassword(_ value: String) -> Bool {
    guard let scheme = value.range(of: "://") else { return value.contains("password=") }
    let afterScheme = value[scheme.upperBound...]
    guard let at = afterScheme.firstIndex(of: "@") else { return false }
    return afterScheme[..<at].contains(":") || value.contains("password=")
}
