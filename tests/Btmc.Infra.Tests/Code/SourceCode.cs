using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Btmc.Infra.Tests.Code;

/// <summary>A configuration key the code reads, where (file:line) and how, in configuration's own form
/// (<c>Section:Key</c>, <c>N</c> for a list index).</summary>
public sealed record ConfigurationRead(string Key, string Location)
{
    /// <summary>The app setting that sets it in Azure (<c>:</c> becomes <c>__</c>).</summary>
    public string AppSettingKey => Key.Replace(":", "__", StringComparison.Ordinal);
}

/// <summary>A type of the code's Azure clients referenced by the function app's sources, and where.</summary>
public sealed record AzureClientUse(string TypeName, string Location, IReadOnlyList<string> ConstantArguments);

/// <summary>
/// The server's C# sources (functions/ and shared/), read as syntax with Roslyn to find what the code reads from
/// configuration and which Azure clients it uses. Reads are found through the ways this code reads configuration:
/// <c>configuration["A:B"]</c>, <c>section["b"]</c> and <c>section.GetValue(…, "b")</c> on a section from
/// <c>GetSection(…)</c> (a local, a parameter passed one, or a lambda over <c>GetChildren()</c>), <c>section.Value</c>,
/// <c>GetSection(…).Bind(options)</c> (every settable property of the options type) and
/// <c>Environment.GetEnvironmentVariable("X")</c>.
/// </summary>
public sealed class SourceCode
{
    private static readonly Lazy<SourceCode> Loaded = new(() => new SourceCode(["functions", "shared"]));

    public static SourceCode Current => Loaded.Value;

    private readonly List<(string Path, SyntaxTree Tree)> _trees;
    private readonly Dictionary<string, string> _constants;

    private SourceCode(IEnumerable<string> folders)
    {
        _trees = folders
            .SelectMany(folder => Directory.EnumerateFiles(Repository.PathOf(folder), "*.cs", SearchOption.AllDirectories))
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(path => (Path.GetRelativePath(Repository.Root, path).Replace('\\', '/'), CSharpSyntaxTree.ParseText(File.ReadAllText(path), path: path)))
            .ToList();
        _constants = _trees
            .SelectMany(t => t.Tree.GetRoot().DescendantNodes().OfType<FieldDeclarationSyntax>())
            .Where(f => f.Modifiers.Any(SyntaxKind.ConstKeyword))
            .SelectMany(f => f.Declaration.Variables.Select(v => (Owner: (f.Parent as TypeDeclarationSyntax)?.Identifier.Text, v.Identifier.Text, Value: v.Initializer?.Value as LiteralExpressionSyntax)))
            .Where(c => c.Owner is not null && c.Value is not null && c.Value.IsKind(SyntaxKind.StringLiteralExpression))
            .GroupBy(c => $"{c.Owner}.{c.Text}", StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Value!.Token.ValueText, StringComparer.Ordinal);
    }

    private IReadOnlyList<ConfigurationRead>? _reads;
    private ILookup<string, InvocationExpressionSyntax>? _invocationsByName;

    /// <summary>Every configuration key the code reads (derived once).</summary>
    public IReadOnlyList<ConfigurationRead> ConfigurationReads() => _reads ??= DeriveConfigurationReads();

    /// <summary>Every invocation in the code, by the name of the method it calls (built once: the parameter case asks often).</summary>
    private ILookup<string, InvocationExpressionSyntax> InvocationsByName => _invocationsByName ??=
        _trees.SelectMany(t => t.Tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>())
            .Select(call => (Name: call.Expression switch
            {
                IdentifierNameSyntax callee => callee.Identifier.Text,
                MemberAccessExpressionSyntax member => member.Name.Identifier.Text,
                _ => null,
            }, Call: call))
            .Where(x => x.Name is not null)
            .ToLookup(x => x.Name!, x => x.Call, StringComparer.Ordinal);

    private List<ConfigurationRead> DeriveConfigurationReads()
    {
        var reads = new List<ConfigurationRead>();
        foreach (var (path, tree) in _trees)
        {
            var root = tree.GetRoot();
            foreach (var access in root.DescendantNodes().OfType<ElementAccessExpressionSyntax>())
            {
                if (StringArgument(access.ArgumentList.Arguments) is not { } key)
                {
                    continue;
                }

                if (IsConfiguration(access.Expression))
                {
                    reads.Add(new ConfigurationRead(key, Where(path, access)));
                }
                else if (SectionsOf(access.Expression) is { Count: > 0 } sections)
                {
                    reads.AddRange(sections.Select(s => new ConfigurationRead($"{s}:{key}", Where(path, access))));
                }
            }

            foreach (var invocation in root.DescendantNodes().OfType<InvocationExpressionSyntax>())
            {
                if (invocation.Expression is not MemberAccessExpressionSyntax member)
                {
                    continue;
                }

                var name = member.Name.Identifier.Text;
                if (name == "GetValue" && StringArgument(invocation.ArgumentList.Arguments) is { } key)
                {
                    if (IsConfiguration(member.Expression))
                    {
                        reads.Add(new ConfigurationRead(key, Where(path, invocation)));
                    }
                    else
                    {
                        reads.AddRange(SectionsOf(member.Expression).Select(s => new ConfigurationRead($"{s}:{key}", Where(path, invocation))));
                    }
                }
                else if (name == "Bind" && SectionsOf(member.Expression) is { Count: > 0 } bound
                    && invocation.ArgumentList.Arguments.FirstOrDefault()?.Expression is IdentifierNameSyntax target
                    && OptionsType(invocation, target.Identifier.Text) is { } type)
                {
                    foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
                    {
                        reads.AddRange(bound.Select(s => new ConfigurationRead($"{s}:{property.Name}", Where(path, invocation))));
                    }
                }
                else if (name == "GetEnvironmentVariable" && member.Expression.ToString() == "Environment"
                    && StringArgument(invocation.ArgumentList.Arguments) is { } variable)
                {
                    reads.Add(new ConfigurationRead(variable, Where(path, invocation)));
                }
            }

            foreach (var member in root.DescendantNodes().OfType<MemberAccessExpressionSyntax>().Where(m => m.Name.Identifier.Text == "Value"))
            {
                reads.AddRange(SectionsOf(member.Expression).Select(s => new ConfigurationRead(s, Where(path, member))));
            }
        }

        return reads;
    }

    /// <summary>Where the function app's sources (functions/) create one of <paramref name="typeNames"/> or call it,
    /// with the string constants passed (e.g. the hub an EventHubProducerClient is made for).</summary>
    public IReadOnlyList<AzureClientUse> Uses(IReadOnlySet<string> typeNames) =>
        _trees.Where(t => t.Path.StartsWith("functions/", StringComparison.Ordinal))
            .SelectMany(t => t.Tree.GetRoot().DescendantNodes().OfType<IdentifierNameSyntax>()
                // Creations and static calls (new EventHubProducerClient(…), KeyVaultSigningKey.OpenAsync(…)): a type only
                // named in a signature or declaration does nothing by itself.
                .Where(id => typeNames.Contains(id.Identifier.Text)
                    && (id.Parent is ObjectCreationExpressionSyntax
                        || id.Parent is MemberAccessExpressionSyntax { Parent: InvocationExpressionSyntax } access && access.Expression == id))
                .Select(id => new AzureClientUse(id.Identifier.Text, Where(t.Path, id), ConstantArguments(id))))
            .ToList();

    private IReadOnlyList<string> ConstantArguments(IdentifierNameSyntax id)
    {
        var arguments = id.Parent switch
        {
            ObjectCreationExpressionSyntax creation => creation.ArgumentList?.Arguments,
            MemberAccessExpressionSyntax { Parent: InvocationExpressionSyntax call } => call.ArgumentList.Arguments,
            _ => null,
        };
        return arguments?.Select(a => Constant(a.Expression)).OfType<string>().ToList() ?? [];
    }

    private static string Where(string path, SyntaxNode node) => $"{path}:{node.GetLocation().GetLineSpan().StartLinePosition.Line + 1}";

    private string? StringArgument(SeparatedSyntaxList<ArgumentSyntax> arguments) =>
        arguments.Count >= 1 ? Constant(arguments[0].Expression) : null;

    /// <summary>A string literal, or a reference to a string constant (<c>Type.Name</c>).</summary>
    private string? Constant(ExpressionSyntax expression) => expression switch
    {
        LiteralExpressionSyntax literal when literal.IsKind(SyntaxKind.StringLiteralExpression) => literal.Token.ValueText,
        MemberAccessExpressionSyntax member when _constants.TryGetValue(member.ToString(), out var value) => value,
        _ => null,
    };

    /// <summary>The configuration root: <c>configuration</c>, <c>Configuration</c>, <c>builder.Configuration</c>.</summary>
    private static bool IsConfiguration(ExpressionSyntax expression) => expression switch
    {
        IdentifierNameSyntax id => id.Identifier.Text is "configuration" or "Configuration",
        MemberAccessExpressionSyntax member => member.Name.Identifier.Text == "Configuration",
        _ => false,
    };

    /// <summary>The configuration sections an expression can stand for.</summary>
    private List<string> SectionsOf(ExpressionSyntax expression, int depth = 0)
    {
        if (depth > 6)
        {
            return [];
        }

        switch (expression)
        {
            case InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.Text: "GetSection" } getSection } call
                when StringArgument(call.ArgumentList.Arguments) is { } name:
                return IsConfiguration(getSection.Expression) ? [name] : SectionsOf(getSection.Expression, depth + 1).Select(s => $"{s}:{name}").ToList();
            case IdentifierNameSyntax id:
                var scope = expression.Ancestors().OfType<MemberDeclarationSyntax>().FirstOrDefault();
                if (scope is null)
                {
                    return [];
                }

                // A local: var section = configuration.GetSection(…);
                var local = scope.DescendantNodes().OfType<VariableDeclaratorSyntax>().FirstOrDefault(v => v.Identifier.Text == id.Identifier.Text && v.Initializer is not null);
                if (local?.Initializer is { } initializer)
                {
                    return SectionsOf(initializer.Value, depth + 1);
                }

                // A lambda parameter over GetChildren(): …GetSection("Producers").GetChildren().Select(p => p["Id"])
                var lambda = id.Ancestors().OfType<SimpleLambdaExpressionSyntax>().FirstOrDefault(l => l.Parameter.Identifier.Text == id.Identifier.Text);
                if (lambda?.Parent?.Parent?.Parent is InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax linq }
                    && linq.Expression is InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.Text: "GetChildren" } children })
                {
                    return SectionsOf(children.Expression, depth + 1).Select(s => $"{s}:N").ToList();
                }

                // A parameter of a method: the sections its callers pass.
                if (scope is MethodDeclarationSyntax method && method.ParameterList.Parameters.Select((p, i) => (p, i)).FirstOrDefault(x => x.p.Identifier.Text == id.Identifier.Text) is { p: not null } parameter)
                {
                    return InvocationsByName[method.Identifier.Text]
                        .Where(call => call.ArgumentList.Arguments.Count > parameter.i)
                        .SelectMany(call => SectionsOf(call.ArgumentList.Arguments[parameter.i].Expression, depth + 1))
                        .Distinct(StringComparer.Ordinal)
                        .ToList();
                }

                return [];
            case ParenthesizedExpressionSyntax parenthesized:
                return SectionsOf(parenthesized.Expression, depth + 1);
            default:
                return [];
        }
    }

    /// <summary>The type of <c>var name = new T();</c> in the member around <paramref name="at"/>, among the server's types.</summary>
    private static Type? OptionsType(SyntaxNode at, string name)
    {
        var scope = at.Ancestors().OfType<MemberDeclarationSyntax>().FirstOrDefault();
        var creation = scope?.DescendantNodes().OfType<VariableDeclaratorSyntax>()
            .FirstOrDefault(v => v.Identifier.Text == name)?.Initializer?.Value as ObjectCreationExpressionSyntax;
        if (creation?.Type is not { } typeSyntax)
        {
            return null;
        }

        var typeName = typeSyntax.ToString();
        return ServerAssemblies().SelectMany(a => a.GetTypes()).FirstOrDefault(t => t.Name == typeName);
    }

    /// <summary>The server's assemblies (the handler and what it references), loaded for their options types.</summary>
    public static IEnumerable<Assembly> ServerAssemblies()
    {
        var handler = typeof(Btmc.Functions.BtmcServer).Assembly;
        return new[] { handler }.Concat(handler.GetReferencedAssemblies()
            .Where(a => a.Name?.StartsWith("Btmc.", StringComparison.Ordinal) == true)
            .Select(Assembly.Load))
            .Concat(new[]
            {
                typeof(Btmc.Supply.SupplyOptions).Assembly, typeof(Btmc.Platform.EventHubs.IEventHubSender).Assembly,
                // The Event Hubs SDK: the function app constructs its EventHubProducerClient directly.
                typeof(Azure.Messaging.EventHubs.Producer.EventHubProducerClient).Assembly,
            })
            .Distinct();
    }
}
