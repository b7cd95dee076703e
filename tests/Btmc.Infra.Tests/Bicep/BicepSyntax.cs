using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;

namespace Btmc.Infra.Tests.Bicep;

/// <summary>One named node of a tree-sitter-bicep syntax tree (bicep-syntax.js): its type, field, source text.</summary>
public sealed record BicepNode(string Type, string? Field, string Text, int Row, int Column, IReadOnlyList<BicepNode> Children)
{
    /// <summary>The children that are not comments.</summary>
    public IEnumerable<BicepNode> Named => Children.Where(c => c.Type != "comment");

    public IEnumerable<BicepNode> Descendants()
    {
        foreach (var child in Children)
        {
            yield return child;
            foreach (var below in child.Descendants())
            {
                yield return below;
            }
        }
    }

    public bool IsError => Type is "ERROR" or "MISSING";

    /// <summary>An object's property values by key (identifier or plain string key).</summary>
    public IReadOnlyDictionary<string, BicepNode> Properties =>
        Named.Where(c => c.Type == "object_property")
            .Select(p => (Key: KeyOf(p.Named.First()), Value: p.Named.Skip(1).FirstOrDefault()))
            .Where(p => p.Value is not null)
            .GroupBy(p => p.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last().Value!, StringComparer.Ordinal);

    public BicepNode? Property(string key) => Properties.TryGetValue(key, out var value) ? value : null;

    /// <summary>A property key as written, with every interpolation <c>${…}</c> turned into <c>N</c>.</summary>
    public static string KeyOf(BicepNode key) => key.Type switch
    {
        "identifier" => key.Text,
        "string" => StringValue(key, interpolationAs: "N"),
        _ => key.Text,
    };

    /// <summary>The value of a string literal node; interpolations become <paramref name="interpolationAs"/>, or
    /// are kept as <c>${…}</c> when it is null.</summary>
    public static string StringValue(BicepNode node, string? interpolationAs = null) =>
        string.Concat(node.Children.Select(c => c.Type switch
        {
            "interpolation" => interpolationAs ?? c.Text,
            "escape_sequence" => c.Text switch { "\\'" => "'", "\\\\" => "\\", "\\n" => "\n", "\\$" => "$", var other => other },
            _ => c.Text,
        }));

    /// <summary>The literal text of a plain string (no interpolation), else null.</summary>
    public string? Literal => Type == "string" && Children.All(c => c.Type != "interpolation") ? StringValue(this) : null;
}

/// <summary>A Bicep file's syntax tree and its declarations.</summary>
public sealed class BicepFile(string path, string relativePath, string source, BicepNode root)
{
    public string Path { get; } = path;

    /// <summary>Relative to the repository root, with forward slashes (e.g. <c>infra/app/api.bicep</c>).</summary>
    public string RelativePath { get; } = relativePath;

    public string Source { get; } = source;

    public BicepNode Root { get; } = root;

    public IEnumerable<BicepNode> Declarations(string type) => Root.Children.Where(c => c.Type == type);

    /// <summary>A declaration's symbolic name (its first identifier).</summary>
    public static string NameOf(BicepNode declaration) => declaration.Named.First(c => c.Type == "identifier").Text;

    public IReadOnlyDictionary<string, BicepNode> Variables =>
        Declarations("variable_declaration").ToDictionary(NameOf, v => v.Named.Last(), StringComparer.Ordinal);

    public IReadOnlyDictionary<string, BicepNode> Parameters =>
        Declarations("parameter_declaration").ToDictionary(NameOf, p => p, StringComparer.Ordinal);

    public IReadOnlyList<BicepResource> Resources =>
        Declarations("resource_declaration").Select(d => BicepResource.Of(this, d)).ToList();

    public IReadOnlyList<BicepResource> Modules =>
        Declarations("module_declaration").Select(d => BicepResource.Of(this, d)).ToList();

    /// <summary>The comment lines directly above a top-level declaration (decorators in between are allowed).</summary>
    public IReadOnlyList<string> CommentAbove(BicepNode declaration)
    {
        var siblings = Root.Children;
        var index = siblings.ToList().IndexOf(declaration);
        var comments = new List<string>();
        for (var i = index - 1; i >= 0 && siblings[i].Type is "comment" or "decorators"; i--)
        {
            if (siblings[i].Type == "comment")
            {
                comments.Insert(0, siblings[i].Text);
            }
        }

        return comments;
    }

    /// <summary>Resolves an expression to a string where it is a literal, a variable holding one, a member of an
    /// object variable (<c>roles.x</c>), or a call whose last argument resolves (<c>subscriptionResourceId(…, x)</c>).</summary>
    public string? ResolveString(BicepNode? expression)
    {
        switch (expression)
        {
            case null:
                return null;
            case { Type: "string" }:
                return expression.Literal;
            case { Type: "identifier" }:
                return Variables.TryGetValue(expression.Text, out var value) ? ResolveString(value) : null;
            case { Type: "member_expression" }:
                var owner = expression.Children.FirstOrDefault(c => c.Field == "object");
                var property = expression.Children.FirstOrDefault(c => c.Field == "property");
                return owner is { Type: "identifier" } && property is not null && Variables.TryGetValue(owner.Text, out var obj) && obj.Type == "object"
                    ? ResolveString(obj.Property(property.Text))
                    : null;
            case { Type: "call_expression" }:
                var arguments = expression.Children.FirstOrDefault(c => c.Field == "arguments");
                return ResolveString(arguments?.Named.LastOrDefault());
            default:
                return null;
        }
    }

    public override string ToString() => RelativePath;
}

/// <summary>A resource or module declaration: symbolic name, type (or module path), body, loop and condition.</summary>
public sealed record BicepResource(BicepFile File, BicepNode Declaration, string Symbol, string TypeReference, BicepNode Body, bool Existing, BicepNode? Loop, BicepNode? Condition)
{
    /// <summary>The resource type without its API version, e.g. <c>Microsoft.KeyVault/vaults</c>.</summary>
    public string Type => TypeReference.Split('@')[0];

    public BicepNode? Property(string key) => Body.Property(key);

    /// <summary>The literal name, or null when the name is computed.</summary>
    public string? Name => File.ResolveString(Property("name"));

    public static BicepResource Of(BicepFile file, BicepNode declaration)
    {
        var symbol = BicepFile.NameOf(declaration);
        var typeReference = declaration.Named.First(c => c.Type == "string").Literal ?? "";
        var value = declaration.Named.Last();
        BicepNode? loop = null, condition = null;
        var body = value;
        if (value.Type == "for_statement")
        {
            loop = value;
            body = value.Children.First(c => c.Field == "body");
        }
        else if (value.Type == "if_statement")
        {
            condition = value.Named.First();
            body = value.Named.Last();
        }

        var existing = System.Text.RegularExpressions.Regex.IsMatch(declaration.Text, @"^(resource|module)\s+\w+\s+'[^']*'\s+existing\b");
        return new BicepResource(file, declaration, symbol, typeReference, body, existing, loop, condition);
    }

    public override string ToString() => $"{File.RelativePath}: {Symbol} '{TypeReference}'";
}

/// <summary>Runs bicep-syntax.js (tree-sitter-bicep under Node.js) over Bicep files. Fails loudly when Node.js or the
/// parser packages are missing: ./test.sh installs them (npm ci).</summary>
public static class BicepSyntax
{
    public static IReadOnlyList<BicepFile> Parse(IReadOnlyList<string> paths)
    {
        var script = System.IO.Path.Combine(Repository.Root, "tests", "Btmc.Infra.Tests", "bicep-syntax.js");
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = Repository.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        foreach (var path in paths)
        {
            start.ArgumentList.Add(path);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException("Node.js (node) is not on PATH: the Bicep checks parse with tree-sitter-bicep under Node.js. Install Node.js 20+ and run ./test.sh (it runs npm ci).", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("bicep-syntax.js did not finish within 2 minutes.");
            }

            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"bicep-syntax.js exited {process.ExitCode}: {stderr.Result.Trim()} (the parser comes from package.json: run ./test.sh, or npm ci).");
            }

            using var document = JsonDocument.Parse(stdout.Result);
            return document.RootElement.EnumerateArray().Select(file =>
            {
                var path = file.GetProperty("file").GetString()!;
                var relative = System.IO.Path.GetRelativePath(Repository.Root, path).Replace('\\', '/');
                return new BicepFile(path, relative, File.ReadAllText(path), Node(file.GetProperty("root")));
            }).ToList();
        }
    }

    private static BicepNode Node(JsonElement element) => new(
        element.GetProperty("type").GetString()!,
        element.TryGetProperty("field", out var field) ? field.GetString() : null,
        element.TryGetProperty("text", out var text) ? text.GetString()! : "",
        element.GetProperty("row").GetInt32(),
        element.GetProperty("column").GetInt32(),
        element.GetProperty("children").EnumerateArray().Select(Node).ToList());
}
