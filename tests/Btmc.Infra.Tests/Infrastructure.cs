using System.Text.Json;
using Btmc.Infra.Tests.Bicep;
using YamlDotNet.RepresentationModel;

namespace Btmc.Infra.Tests;

/// <summary>The repository checkout the tests read.</summary>
public static class Repository
{
    public static string Root { get; } = Locate();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Serverless.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Serverless.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>An app setting the Bicep sets on the function app: its key (interpolations as <c>N</c>) and value.</summary>
public sealed record AppSetting(string Key, BicepNode Value)
{
    /// <summary>The literal value, or null when computed.</summary>
    public string? Literal => Value.Literal;
}

/// <summary>A role assignment: who (principal expression), which built-in role, at which scope.</summary>
public sealed record RoleAssignment(BicepResource Resource, string Principal, string? RoleId, BicepResource? Scope, string ScopeExpression)
{
    public override string ToString() => $"{Resource.Symbol} ({Resource.File.RelativePath}): role {RoleId} for {Principal} at {Scope?.Symbol ?? ScopeExpression}";
}

/// <summary>
/// The deployment as written: azure.yaml, infra/main.parameters.json, every infra/**/*.bicep file (parsed once), the
/// function app's settings and every role assignment.
/// </summary>
public sealed class Infrastructure
{
    private static readonly Lazy<Infrastructure> Loaded = new(() => new Infrastructure());

    /// <summary>The infrastructure, parsed once for all tests.</summary>
    public static Infrastructure Current => Loaded.Value;

    /// <summary>The function app's module (api.bicep) and the module symbol main.bicep gives the function app's identity.</summary>
    public const string AppModuleFile = "infra/app/api.bicep";

    public const string AppIdentityModule = "appIdentity";

    /// <summary>The parameter through which modules receive the function app identity's principal id.</summary>
    public const string AppPrincipalParameter = "appPrincipalId";

    private Infrastructure()
    {
        var paths = Directory.EnumerateFiles(Repository.PathOf("infra"), "*.bicep", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Files = BicepSyntax.Parse(paths);
        using (var reader = new StreamReader(Repository.PathOf("azure.yaml")))
        {
            var yaml = new YamlStream();
            yaml.Load(reader);
            AzureYaml = (YamlMappingNode)yaml.Documents[0].RootNode;
        }

        using var parameters = JsonDocument.Parse(System.IO.File.ReadAllText(Repository.PathOf("infra", "main.parameters.json")));
        ParameterMappings = parameters.RootElement.GetProperty("parameters").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetProperty("value").ToString(), StringComparer.Ordinal);
    }

    public IReadOnlyList<BicepFile> Files { get; }

    public BicepFile Main => File("infra/main.bicep");

    public BicepFile App => File(AppModuleFile);

    public YamlMappingNode AzureYaml { get; }

    /// <summary>main.parameters.json: parameter name to its value as written (e.g. <c>${AZURE_ENV_NAME}</c>).</summary>
    public IReadOnlyDictionary<string, string> ParameterMappings { get; }

    public BicepFile File(string relativePath) =>
        Files.SingleOrDefault(f => f.RelativePath == relativePath) ?? throw new FileNotFoundException($"{relativePath} is not among the Bicep files.");

    /// <summary>
    /// The function app's settings: the keys of every object that flows into the site module's
    /// <c>siteConfig.appSettings</c> (following variables), in api.bicep.
    /// </summary>
    public IReadOnlyList<AppSetting> AppSettings
    {
        get
        {
            var site = App.Modules.Single(m => m.TypeReference.StartsWith("br/public:avm/res/web/site:", StringComparison.Ordinal));
            var siteConfig = site.Property("params")?.Property("siteConfig") ?? throw new InvalidOperationException("The site module has no params.siteConfig.");
            var appSettings = siteConfig.Descendants().FirstOrDefault(n => n.Type == "object_property" && n.Named.First().Text == "appSettings")
                ?? throw new InvalidOperationException("siteConfig sets no appSettings.");
            var settings = new List<AppSetting>();
            var visited = new HashSet<string>(StringComparer.Ordinal);
            Collect(appSettings.Named.Last(), settings, visited, inSettingsObject: false);
            return settings;
        }
    }

    private void Collect(BicepNode expression, List<AppSetting> settings, HashSet<string> visited, bool inSettingsObject)
    {
        if (expression.Type == "identifier" && App.Variables.TryGetValue(expression.Text, out var variable) && visited.Add(expression.Text))
        {
            Collect(variable, settings, visited, inSettingsObject: true);
            return;
        }

        if (expression.Type == "object" && inSettingsObject)
        {
            foreach (var property in expression.Named.Where(c => c.Type == "object_property"))
            {
                var key = BicepNode.KeyOf(property.Named.First());
                var value = property.Named.Skip(1).First();
                if (value.Type is "object")
                {
                    Collect(value, settings, visited, inSettingsObject: false);
                }
                else
                {
                    settings.Add(new AppSetting(key, value));
                }
            }

            return;
        }

        foreach (var child in expression.Named)
        {
            Collect(child, settings, visited, inSettingsObject);
        }
    }

    /// <summary>Every role assignment in every Bicep file, its role id and scope resolved within its file.</summary>
    public IReadOnlyList<RoleAssignment> RoleAssignments =>
        Files.SelectMany(file => file.Resources
            .Where(r => r.Type == "Microsoft.Authorization/roleAssignments")
            .Select(r =>
            {
                var properties = r.Property("properties");
                var principal = properties?.Property("principalId")?.Text ?? "";
                var roleId = file.ResolveString(properties?.Property("roleDefinitionId"));
                var scopeExpression = r.Property("scope");
                var scopeSymbol = scopeExpression switch
                {
                    { Type: "identifier" } => scopeExpression.Text,
                    { Type: "subscript_expression" } => scopeExpression.Children.First(c => c.Field == "object").Text,
                    _ => null,
                };
                var scope = file.Resources.FirstOrDefault(x => x.Symbol == scopeSymbol);
                return new RoleAssignment(r, principal, roleId, scope, scopeExpression?.Text ?? "(resource group)");
            }))
        .ToList();

    /// <summary>The function app's role assignments: principal <c>appPrincipalId</c> in a module main.bicep passes the
    /// function app identity's principal id to.</summary>
    public IReadOnlyList<RoleAssignment> AppRoleAssignments => RoleAssignments.Where(a => a.Principal == AppPrincipalParameter).ToList();
}
