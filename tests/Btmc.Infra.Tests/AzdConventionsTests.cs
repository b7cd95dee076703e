using System.Text.Json;
using System.Text.RegularExpressions;
using Btmc.Infra.Tests.Bicep;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace Btmc.Infra.Tests;

/// <summary>azure.yaml and infra/ in the conventions of the official azd templates.</summary>
public sealed partial class AzdConventionsTests
{
    private static Infrastructure Infra => Infrastructure.Current;

    private static YamlMappingNode Mapping(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlMappingNode mapping
            ? mapping
            : throw new Xunit.Sdk.XunitException($"azure.yaml: no mapping '{key}'");

    private static string Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode { Value: { } text }
            ? text
            : throw new Xunit.Sdk.XunitException($"azure.yaml: no value '{key}'");

    [Fact]
    public void AzureYaml_NamesTheFunctionService_TheInfraPath_AndThePostProvisionHook()
    {
        var services = Mapping(Infra.AzureYaml, "services");
        var (name, service) = Assert.Single(services.Children);
        var api = (YamlMappingNode)service;
        Assert.Equal("api", ((YamlScalarNode)name).Value);
        Assert.Equal("function", Scalar(api, "host"));
        Assert.Equal("dotnet", Scalar(api, "language"));
        var project = Repository.PathOf(Scalar(api, "project").Split('/'));
        var csproj = Assert.Single(Directory.GetFiles(project, "*.csproj"));
        Assert.Contains("<AssemblyName>handler</AssemblyName>", File.ReadAllText(csproj), StringComparison.Ordinal); // host.json's defaultExecutablePath

        var infra = Mapping(Infra.AzureYaml, "infra");
        Assert.Equal("bicep", Scalar(infra, "provider"));
        Assert.True(File.Exists(Repository.PathOf(Scalar(infra, "path"), Scalar(infra, "module") + ".bicep")), "infra.path/infra.module does not name main.bicep");

        var hook = Mapping(Mapping(Mapping(Infra.AzureYaml, "hooks"), "postprovision"), "posix");
        var script = Repository.PathOf(Scalar(hook, "run").TrimStart('.', '/').Split('/'));
        Assert.True(File.Exists(script), $"{script} does not exist");
        Assert.StartsWith("#!/usr/bin/env bash", File.ReadAllText(script), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.True(File.GetUnixFileMode(script).HasFlag(UnixFileMode.UserExecute), "azd runs the hook as an executable");
        }
    }

    [Fact]
    public void FunctionApp_CarriesTheAzdServiceNameTag_OfTheAzureYamlService()
    {
        var service = ((YamlScalarNode)Assert.Single(Mapping(Infra.AzureYaml, "services").Children).Key).Value;
        var site = Infra.App.Modules.Single(m => m.TypeReference.StartsWith("br/public:avm/res/web/site:", StringComparison.Ordinal));
        var tags = site.Property("params")?.Property("tags");
        Assert.NotNull(tags);
        Assert.Contains(tags!.Descendants(), n => n.Type == "object_property" && BicepNode.KeyOf(n.Named.First()) == "azd-service-name" && n.Named.Last().Literal == service);
        Assert.Equal("'functionapp,linux'", site.Property("params")?.Property("kind")?.Text);
    }

    [Fact]
    public void EveryResource_CarriesTheAzdEnvNameTag()
    {
        var tags = Infra.Main.Variables["tags"];
        Assert.Contains(tags.Named, p => p.Type == "object_property" && BicepNode.KeyOf(p.Named.First()) == "azd-env-name" && p.Named.Last().Text == "environmentName");

        // main.bicep hands `tags` to the resource group, to every registry module, and to every local module that
        // takes them.
        Assert.Equal("tags", Infra.Main.Resources.Single(r => r.Type == "Microsoft.Resources/resourceGroups").Property("tags")?.Text);
        foreach (var module in Infra.Main.Modules)
        {
            var takesTags = module.TypeReference.StartsWith("br/", StringComparison.Ordinal)
                || Infra.File("infra/" + module.TypeReference[2..]).Parameters.ContainsKey("tags");
            Assert.True(!takesTags || module.Property("params")?.Property("tags")?.Text == "tags", $"main.bicep: module {module.Symbol} is not given the tags");
        }

        // Every module file tags what it creates: each resource or module with a location carries `tags` (a file
        // without a tags parameter, like rbac.bicep, creates nothing with a location).
        foreach (var file in Infra.Files.Where(f => f != Infra.Main))
        {
            foreach (var resource in file.Resources.Where(r => !r.Existing && r.Property("location") is not null))
            {
                Assert.True(resource.Property("tags") is not null && file.Parameters.ContainsKey("tags"), $"{resource}: has a location but no tags");
            }

            foreach (var module in file.Modules.Where(m => m.Property("params")?.Property("location") is not null))
            {
                Assert.True(module.Property("params")?.Property("tags") is not null, $"{module}: has a location but no tags");
            }
        }
    }

    [Fact]
    public void Main_IsSubscriptionScoped_AndNamesResourcesFromAbbreviationsAndTheResourceToken()
    {
        var main = Infra.Main;
        Assert.Equal("subscription", Assert.Single(main.Declarations("target_scope_assignment")).Named.Single().Literal);
        Assert.True(main.Parameters.ContainsKey("environmentName"));
        Assert.Contains("type: 'location'", main.Parameters.ContainsKey("location") ? DecoratorsOf(main, main.Parameters["location"]) : "", StringComparison.Ordinal);
        Assert.Equal("toLower(uniqueString(subscription().id, environmentName, location))", main.Variables["resourceToken"].Text);
        Assert.Equal("loadJsonContent('./abbreviations.json')", main.Variables["abbrs"].Text);

        using var abbreviations = JsonDocument.Parse(File.ReadAllText(Repository.PathOf("infra", "abbreviations.json")));
        var known = abbreviations.RootElement.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var used = main.Root.Descendants()
            .Where(n => n.Type == "member_expression" && n.Children.FirstOrDefault(c => c.Field == "object")?.Text == "abbrs")
            .Select(n => n.Children.First(c => c.Field == "property").Text)
            .ToList();
        Assert.NotEmpty(used);
        Assert.All(used, key => Assert.Contains(key, known));
        Assert.Equal("'${abbrs.resourcesResourceGroups}${environmentName}'", main.Resources.Single(r => r.Type == "Microsoft.Resources/resourceGroups").Property("name")?.Text);
    }

    [Fact]
    public void Outputs_AreUpperSnakeCase()
    {
        var outputs = Infra.Main.Declarations("output_declaration").Select(BicepFile.NameOf).ToList();
        Assert.Contains("SERVICE_API_NAME", outputs);
        Assert.All(outputs, name => Assert.Matches(UpperSnake(), name));
    }

    [Fact]
    public void Parameters_MapTheAzdEnvironment_AndNameOnlyDeclaredParameters()
    {
        var mappings = Infra.ParameterMappings;
        Assert.Equal("${AZURE_ENV_NAME}", mappings["environmentName"]);
        Assert.Equal("${AZURE_LOCATION}", mappings["location"]);
        Assert.Equal("${AZURE_PRINCIPAL_ID}", mappings["principalId"]);
        var declared = Infra.Main.Parameters;
        Assert.All(mappings.Keys, name => Assert.True(declared.ContainsKey(name), $"main.parameters.json maps {name}, which main.bicep does not declare"));
        var required = declared.Where(p => !p.Value.Text.Contains('=', StringComparison.Ordinal)).Select(p => p.Key);
        Assert.All(required, name => Assert.True(mappings.ContainsKey(name), $"main.bicep parameter {name} has no default and no mapping"));
    }

    [Fact]
    public void RegistryModules_ArePinnedAzureVerifiedModules_AndLocalModulesExist()
    {
        var modules = Infra.Files.SelectMany(f => f.Modules).ToList();
        Assert.Contains(modules, m => m.TypeReference.StartsWith("br/public:avm/res/", StringComparison.Ordinal));
        foreach (var module in modules)
        {
            if (module.TypeReference.StartsWith("br", StringComparison.Ordinal))
            {
                Assert.Matches(PinnedAvm(), module.TypeReference);
            }
            else
            {
                Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(module.File.Path)!, module.TypeReference)), $"{module}: no such file");
            }
        }
    }

    private static string DecoratorsOf(BicepFile file, BicepNode declaration)
    {
        var siblings = file.Root.Children.ToList();
        var index = siblings.IndexOf(declaration);
        return index > 0 && siblings[index - 1].Type == "decorators" ? siblings[index - 1].Text : "";
    }

    [GeneratedRegex("^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")]
    private static partial Regex UpperSnake();

    [GeneratedRegex(@"^br/public:avm/(res|ptn|utl)/[a-z0-9-]+(/[a-z0-9-]+)+:\d+\.\d+\.\d+$")]
    private static partial Regex PinnedAvm();
}
