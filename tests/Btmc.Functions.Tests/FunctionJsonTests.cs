using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Btmc.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Xunit;

namespace Btmc.Functions.Tests;

/// <summary>
/// The checked-in functions/bindings/&lt;Name&gt;/function.json files are what <see cref="FunctionJson.Generate"/> derives
/// from the server's endpoints, so they cannot drift from the code. To rewrite them after changing an endpoint:
/// <c>BTMC_WRITE_FUNCTION_JSON=1 dotnet test tests/Btmc.Functions.Tests -c Release --filter FunctionJsonTests</c>.
/// </summary>
public sealed class FunctionJsonTests
{
    private const string WriteSwitch = "BTMC_WRITE_FUNCTION_JSON";

    /// <summary>Built once: the server takes a moment to build.</summary>
    private static readonly Lazy<Task<SortedDictionary<string, string>>> Generated = new(GenerateAsync);

    private static string FunctionsFolder => Path.Combine(SharedTestData.RepositoryRoot, "functions", "bindings");

    [Fact]
    public async Task Generate_CheckedInFiles_MatchTheEndpoints()
    {
        var generated = await Generated.Value;
        if (Environment.GetEnvironmentVariable(WriteSwitch) == "1")
        {
            Rewrite(generated);
        }

        var checkedIn = Directory.EnumerateDirectories(FunctionsFolder)
            .Where(folder => File.Exists(Path.Combine(folder, FunctionJson.FileName)))
            .ToDictionary(folder => Path.GetFileName(folder), folder => File.ReadAllText(Path.Combine(folder, FunctionJson.FileName)), StringComparer.Ordinal);
        var hint = $"; run {WriteSwitch}=1 dotnet test tests/Btmc.Functions.Tests -c Release --filter {nameof(FunctionJsonTests)}";
        var missing = generated.Keys.Except(checkedIn.Keys).ToList();
        var extra = checkedIn.Keys.Except(generated.Keys).ToList();
        Assert.True(missing.Count == 0, $"no function.json for {string.Join(", ", missing)}{hint}");
        Assert.True(extra.Count == 0, $"function.json without an endpoint: {string.Join(", ", extra)}{hint}");
        foreach (var (name, json) in generated)
        {
            Assert.True(json == checkedIn[name], $"functions/bindings/{name}/{FunctionJson.FileName} differs from its endpoint{hint}\nexpected:\n{json}");
        }
    }

    [Fact]
    public async Task Generate_FunctionNames_OneFunctionPerConstant()
    {
        var generated = await Generated.Value;

        var constants = typeof(FunctionNames).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (string?)f.GetRawConstantValue())
            .Order(StringComparer.Ordinal);
        Assert.Equal(constants, generated.Keys);
    }

    [Fact]
    public async Task Generate_Endpoints_AnonymousAtTheHostSoTheHandlerAuthenticatesAndRoutesDropThePrefix()
    {
        var generated = await Generated.Value;

        var capture = Trigger(generated[FunctionNames.CaptureEvents]);
        Assert.Equal(["post"], capture["methods"]!.AsArray().Select(m => (string?)m));
        Assert.Equal("epcis/capture", (string?)capture["route"]);

        // The partner registry's keys live in the governance chain, which the host cannot read: a host key check would
        // refuse them, so every HTTP function lets the request through and the handler authenticates it.
        Assert.All(generated.Where(f => f.Value.Contains("\"httpTrigger\"", StringComparison.Ordinal)),
            f => Assert.Equal("anonymous", (string?)Trigger(f.Value)["authLevel"]));
        Assert.Equal("epcis/events/{*eventId}", (string?)Trigger(generated[FunctionNames.GetEvent])["route"]);
        Assert.Equal("trace/{*epc}", (string?)Trigger(generated[FunctionNames.Trace])["route"]);
        Assert.Equal("ledger/chains/{chainId}/blocks/{height:long}", (string?)Trigger(generated[FunctionNames.GetBlock])["route"]);
        var bindings = JsonNode.Parse(generated[FunctionNames.ListChains])!["bindings"]!.AsArray();
        Assert.Equal(2, bindings.Count);
        Assert.Equal("http", (string?)bindings[1]!["type"]);
        Assert.Equal("out", (string?)bindings[1]!["direction"]);
    }

    [Fact]
    public async Task Generate_EventHubsAndTimerFunctions_IdentityConnectionRetryForeverAndSixFieldSchedule()
    {
        var generated = await Generated.Value;

        var sealer = JsonNode.Parse(generated[FunctionNames.SealSupplyEvents])!;
        var trigger = Assert.Single(sealer["bindings"]!.AsArray())!;
        Assert.Equal("eventHubTrigger", (string?)trigger["type"]);
        Assert.Equal("supply-events", (string?)trigger["eventHubName"]);
        Assert.Equal("SupplyEvents", (string?)trigger["connection"]);
        Assert.Equal("many", (string?)trigger["cardinality"]);
        Assert.Equal("string", (string?)trigger["dataType"]);
        Assert.Equal(-1, (int)sealer["retry"]!["maxRetryCount"]!);
        var timer = Assert.Single(JsonNode.Parse(generated[FunctionNames.AuditLedger])!["bindings"]!.AsArray())!;
        Assert.Equal("timerTrigger", (string?)timer["type"]);
        Assert.Equal(6, ((string?)timer["schedule"])!.Split(' ').Length);
    }

    [Fact]
    public async Task Generate_TriggerFunctionNotAtItsName_Throws()
    {
        await using var app = WebApplication.CreateSlimBuilder().Build();
        app.MapPost("/Elsewhere", () => "a").WithName("Named").WithMetadata(Btmc.Functions.Supply.SupplyEventsTrigger.Function);

        var error = Assert.Throws<InvalidOperationException>(() => FunctionJson.Generate(Endpoints(app), "api"));

        Assert.Contains("/Elsewhere", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_UnnamedEndpointUnderThePrefix_Throws()
    {
        await using var app = WebApplication.CreateSlimBuilder().Build();
        app.MapGet("/", () => "ready");
        app.MapGet("/api/named", () => "a").WithName("Named");
        app.MapGet("/api/unnamed", () => "b");

        var error = Assert.Throws<InvalidOperationException>(() => FunctionJson.Generate(Endpoints(app), "api"));

        Assert.Contains("/api/unnamed", error.Message, StringComparison.Ordinal);
    }

    private static JsonNode Trigger(string functionJson) =>
        JsonNode.Parse(functionJson)!["bindings"]!.AsArray().Single(b => (string?)b!["type"] == "httpTrigger")!;

    /// <summary>The function.json documents of the real server, with host.json's route prefix.</summary>
    private static async Task<SortedDictionary<string, string>> GenerateAsync()
    {
        var data = LocalServer.NewDataDirectory();
        try
        {
            var app = await BtmcServer.BuildAsync(["--urls", "http://127.0.0.1:0", "--DataDirectory", data]);
            await using (app)
            {
                await app.StartAsync();
                try
                {
                    return FunctionJson.Generate(Endpoints(app), RoutePrefix());
                }
                finally
                {
                    await app.StopAsync();
                }
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>The endpoints mapped on the app, started or not.</summary>
    private static IEnumerable<Endpoint> Endpoints(IEndpointRouteBuilder app) =>
        app.DataSources.SelectMany(source => source.Endpoints);

    private static string RoutePrefix()
    {
        using var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedTestData.RepositoryRoot, "host.json")));
        return host.RootElement.TryGetProperty("extensions", out var extensions)
            && extensions.TryGetProperty("http", out var http)
            && http.TryGetProperty("routePrefix", out var prefix)
                ? prefix.GetString() ?? string.Empty
                : "api";
    }

    private static void Rewrite(SortedDictionary<string, string> generated)
    {
        foreach (var folder in Directory.EnumerateDirectories(FunctionsFolder))
        {
            var file = Path.Combine(folder, FunctionJson.FileName);
            if (File.Exists(file) && !generated.ContainsKey(Path.GetFileName(folder)))
            {
                File.Delete(file);
            }
        }

        foreach (var (name, json) in generated)
        {
            Directory.CreateDirectory(Path.Combine(FunctionsFolder, name));
            File.WriteAllText(Path.Combine(FunctionsFolder, name, FunctionJson.FileName), json);
        }
    }
}
