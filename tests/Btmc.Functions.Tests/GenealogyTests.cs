using System.Text.Json;
using Btmc.Chains;
using Btmc.Cli;
using Btmc.Epcis;
using Btmc.Supply.Genealogy;
using Btmc.Supply.Receipts;
using Xunit;
using static Btmc.Functions.Tests.TestEvents;

namespace Btmc.Functions.Tests;

/// <summary>
/// A semiconductor chain over real HTTP, sealed once for all tests: a wafer is commissioned and cut into dies, dies
/// are packaged into chips, chips are packed into trays (an SSCC and a GIAI), two chips are assembled into a module,
/// and the SSCC tray is unpacked afterwards.
/// </summary>
public sealed class GenealogyScenario : IAsyncLifetime
{
    public const string Wafer = "urn:epc:id:sgtin:0614141.100001.1";
    public static readonly string[] Dies = [.. Enumerable.Range(1, 4).Select(i => $"urn:epc:id:sgtin:0614141.100002.{i}")];
    public static readonly string[] Chips = [.. Enumerable.Range(1, 3).Select(i => $"urn:epc:id:sgtin:0614141.100003.{i}")];
    public const string Module = "urn:epc:id:sgtin:0614141.100004.1";
    public const string Tray1 = "urn:epc:id:sscc:0614141.0000000001";
    public const string Tray2 = "urn:epc:id:giai:0614141.TRAY2";

    private LocalServer? _server;

    internal LocalServer Server => _server ?? throw new InvalidOperationException("not initialised");

    public string Commissioning { get; private set; } = string.Empty;

    /// <summary>Wafer into the four dies.</summary>
    public string Dicing { get; private set; } = string.Empty;

    /// <summary>Die i into chip i (i = 0..2).</summary>
    public IReadOnlyList<string> Packaging { get; private set; } = [];

    /// <summary>Chips 0 and 1 into <see cref="Tray1"/>, chip 2 into <see cref="Tray2"/>.</summary>
    public IReadOnlyList<string> Packing { get; private set; } = [];

    /// <summary>Chips 0 and 1 into the module.</summary>
    public string Assembly { get; private set; } = string.Empty;

    /// <summary>Chips 0 and 1 out of <see cref="Tray1"/>.</summary>
    public string Unpacking { get; private set; } = string.Empty;

    /// <summary>The downstream trace of die 0 before <see cref="Unpacking"/> was captured.</summary>
    public TraceGraph DownstreamBeforeUnpacking { get; private set; } = new(string.Empty, string.Empty, 0, [], [], false);

    public async Task InitializeAsync()
    {
        _server = await LocalServer.StartInProcessAsync();
        Commissioning = (await Server.CaptureSealedAsync(Commission(Wafer, 0)))[0];
        Dicing = (await Server.CaptureSealedAsync(Transformation([Wafer], Dies, 10)))[0];
        Packaging = await Server.CaptureSealedAsync([.. Enumerable.Range(0, 3).Select(i => Transformation([Dies[i]], [Chips[i]], 20 + i))]);
        Packing = await Server.CaptureSealedAsync(Aggregation("ADD", Tray1, Chips[..2], 30), Aggregation("ADD", Tray2, [Chips[2]], 31));
        Assembly = (await Server.CaptureSealedAsync(Transformation(Chips[..2], [Module], 40)))[0];
        DownstreamBeforeUnpacking = await TraceAsync(Dies[0], "downstream", 10);
        Unpacking = (await Server.CaptureSealedAsync(Aggregation("DELETE", Tray1, Chips[..2], 50)))[0];
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    public async Task<TraceGraph> TraceAsync(string epc, string direction, int depth) =>
        JsonSerializer.Deserialize<TraceGraph>(await TraceTextAsync(Uri.EscapeDataString(epc), direction, depth), Receipt.JsonOptions)
        ?? throw new InvalidOperationException("empty trace");

    public async Task<string> TraceTextAsync(string path, string direction, int depth)
    {
        using var response = await Server.Http.GetAsync($"api/trace/{path}?direction={direction}&depth={depth}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"trace {path}: {(int)response.StatusCode} {text}");
        return text;
    }

    public async Task<LedgerPosition> PositionOfAsync(string eventId)
    {
        var receipt = await Server.GetJsonAsync("api/ledger/receipts/" + Uri.EscapeDataString(eventId));
        return new LedgerPosition(receipt.GetProperty("chainId").GetString()!, receipt.GetProperty("height").GetInt64(), receipt.GetProperty("leafIndex").GetInt64());
    }
}

public sealed class GenealogyTests(GenealogyScenario scenario) : IClassFixture<GenealogyScenario>
{
    private static string C(string epc) => EventTerms.CanonicalEpc(epc);

    [Fact]
    public async Task TraceUpstream_ModuleAtDepth10_ReachesTheWaferThroughEveryTransformation()
    {
        var graph = await scenario.TraceAsync(GenealogyScenario.Module, "upstream", 10);

        var (dies, chips) = (GenealogyScenario.Dies, GenealogyScenario.Chips);
        Assert.Equal(C(GenealogyScenario.Module), graph.Root);
        Assert.Equal("upstream", graph.Direction);
        Assert.False(graph.Truncated);
        Assert.Equal(
            new[] { GenealogyScenario.Module, chips[0], chips[1], dies[0], dies[1], GenealogyScenario.Wafer }.Select(C).Order(StringComparer.Ordinal),
            graph.Nodes.Order(StringComparer.Ordinal));
        var expected = new[]
        {
            (chips[0], GenealogyScenario.Module, scenario.Assembly),
            (chips[1], GenealogyScenario.Module, scenario.Assembly),
            (dies[0], chips[0], scenario.Packaging[0]),
            (dies[1], chips[1], scenario.Packaging[1]),
            (GenealogyScenario.Wafer, dies[0], scenario.Dicing),
            (GenealogyScenario.Wafer, dies[1], scenario.Dicing),
        };
        await AssertEdgesAsync(expected.Select(e => (e.Item1, e.Item2, "transformation", e.Item3, (string?)null)), graph);
    }

    [Fact]
    public async Task TraceDownstream_DieAfterUnpacking_ReachesModuleAndTrayEndedByTheDelete()
    {
        var graph = await scenario.TraceAsync(GenealogyScenario.Dies[0], "downstream", 10);

        var chip = GenealogyScenario.Chips[0];
        Assert.Equal("downstream", graph.Direction);
        Assert.Equal(
            new[] { GenealogyScenario.Dies[0], chip, GenealogyScenario.Module, GenealogyScenario.Tray1 }.Select(C).Order(StringComparer.Ordinal),
            graph.Nodes.Order(StringComparer.Ordinal));
        await AssertEdgesAsync(
            [
                (GenealogyScenario.Dies[0], chip, "transformation", scenario.Packaging[0], null),
                (chip, GenealogyScenario.Module, "transformation", scenario.Assembly, null),
                (chip, GenealogyScenario.Tray1, "aggregation", scenario.Packing[0], scenario.Unpacking),
            ],
            graph);
    }

    [Fact]
    public void TraceDownstream_DieBeforeUnpacking_TrayEdgeNotEnded()
    {
        var graph = scenario.DownstreamBeforeUnpacking;

        var tray = Assert.Single(graph.Edges, e => e.Kind == "aggregation");
        Assert.Equal(C(GenealogyScenario.Tray1), tray.To);
        Assert.Equal(scenario.Packing[0], tray.EventId);
        Assert.Null(tray.EndedBy);
        Assert.Null(tray.EndedAt);
        Assert.Equal(3, graph.Edges.Count);
    }

    [Fact]
    public async Task TraceDownstream_DieInTheGiaiTrayNeverUnpacked_EdgeNotEnded()
    {
        var graph = await scenario.TraceAsync(GenealogyScenario.Dies[2], "downstream", 10);

        await AssertEdgesAsync(
            [
                (GenealogyScenario.Dies[2], GenealogyScenario.Chips[2], "transformation", scenario.Packaging[2], null),
                (GenealogyScenario.Chips[2], GenealogyScenario.Tray2, "aggregation", scenario.Packing[1], null),
            ],
            graph);
    }

    [Fact]
    public async Task TraceDownstream_Wafer_ReachesEveryDieChipTrayAndTheModule()
    {
        var graph = await scenario.TraceAsync(GenealogyScenario.Wafer, "downstream", 10);

        var expected = new[] { GenealogyScenario.Wafer, GenealogyScenario.Module, GenealogyScenario.Tray1, GenealogyScenario.Tray2 }
            .Concat(GenealogyScenario.Dies).Concat(GenealogyScenario.Chips).Select(C).Order(StringComparer.Ordinal);
        Assert.Equal(expected, graph.Nodes.Order(StringComparer.Ordinal));
        Assert.Equal(4 + 3 + 2 + 3, graph.Edges.Count);
    }

    [Theory]
    [InlineData("upstream", 1, 2)]
    [InlineData("upstream", 2, 4)]
    [InlineData("upstream", 3, 6)]
    [InlineData("downstream", 1, 1)]
    [InlineData("downstream", 2, 3)]
    public async Task Trace_DepthLimit_StopsAfterThatManyHops(string direction, int depth, int edges)
    {
        var root = direction == "upstream" ? GenealogyScenario.Module : GenealogyScenario.Dies[0];

        var graph = await scenario.TraceAsync(root, direction, depth);

        Assert.Equal(depth, graph.Depth);
        Assert.Equal(edges, graph.Edges.Count);
        if (direction == "upstream")
        {
            Assert.Equal(depth == 3, graph.Nodes.Contains(C(GenealogyScenario.Wafer)));
        }
        else
        {
            Assert.Equal(depth == 2, graph.Nodes.Contains(C(GenealogyScenario.Module)));
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("51")]
    [InlineData("x")]
    public async Task Trace_DepthOutOfRange_Returns400(string depth)
    {
        using var response = await scenario.Server.Http.GetAsync($"api/trace/{Uri.EscapeDataString(GenealogyScenario.Module)}?depth={depth}");

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Trace_DigitalLinkInsteadOfUrn_SameGraph()
    {
        var urn = GenealogyScenario.Chips[0];
        var digitalLink = C(urn);
        Assert.StartsWith("https://id.gs1.org/01/", digitalLink, StringComparison.Ordinal);

        var byUrn = await scenario.TraceTextAsync(Uri.EscapeDataString(urn), "upstream", 10);
        var byEncodedLink = await scenario.TraceTextAsync(Uri.EscapeDataString(digitalLink), "upstream", 10);
        var byRawLink = await scenario.TraceTextAsync(digitalLink, "upstream", 10);
        var downByUrn = await scenario.TraceTextAsync(Uri.EscapeDataString(urn), "downstream", 10);
        var downByLink = await scenario.TraceTextAsync(Uri.EscapeDataString(digitalLink), "downstream", 10);

        Assert.Equal(byUrn, byEncodedLink);
        Assert.Equal(byUrn, byRawLink);
        Assert.Equal(downByUrn, downByLink);
        Assert.Equal(2, JsonDocument.Parse(byUrn).RootElement.GetProperty("edges").GetArrayLength());
    }

    [Theory]
    [InlineData("upstream")]
    [InlineData("downstream")]
    public async Task VerifyLineage_ProofFetchedWithTheCli_Ok(string direction)
    {
        var root = direction == "upstream" ? GenealogyScenario.Module : GenealogyScenario.Dies[0];
        using var file = new TempFile();

        var fetched = await BtmcCli.RunAsync(["trace", root, "--url", scenario.Server.BaseUrl, "--api-key-file", scenario.Server.ApiKeyFile, "--direction", direction, "--proof", "--out", file.Path], TextWriter.Null, TextWriter.Null);
        var (exit, output, error) = await VerifyAsync(file.Path);

        Assert.Equal(0, fetched);
        Assert.True(exit == 0, error);
        Assert.StartsWith("OK: ", output, StringComparison.Ordinal);
        var bundle = LineageBundle.FromJson(await File.ReadAllTextAsync(file.Path));
        var events = direction == "upstream"
            ? new[] { scenario.Assembly, scenario.Packaging[0], scenario.Packaging[1], scenario.Dicing }
            : new[] { scenario.Packaging[0], scenario.Assembly, scenario.Packing[0], scenario.Unpacking };
        Assert.Equal(events.Order(StringComparer.Ordinal), bundle.Receipts.Select(r => r.EventId).Order(StringComparer.Ordinal));
        Assert.Contains($"{events.Length} events", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trace_ProofFlagBeforeTheEpc_FetchesTheSameBundleAsWithTheEpcFirst()
    {
        using var flagFirst = new TempFile();
        using var epcFirst = new TempFile();
        var error = new StringWriter();

        // --proof is a flag: the EPC after it is the command's argument, not the option's value.
        var fetched = await BtmcCli.RunAsync(["trace", "--proof", GenealogyScenario.Module, "--out", flagFirst.Path, "--url", scenario.Server.BaseUrl, "--api-key-file", scenario.Server.ApiKeyFile], TextWriter.Null, error);
        Assert.Equal(0, await BtmcCli.RunAsync(["trace", GenealogyScenario.Module, "--url", scenario.Server.BaseUrl, "--api-key-file", scenario.Server.ApiKeyFile, "--proof", "--out", epcFirst.Path], TextWriter.Null, TextWriter.Null));
        var (exit, output, verifyError) = await VerifyAsync(flagFirst.Path);

        Assert.True(fetched == 0, error.ToString());
        Assert.True(exit == 0, verifyError);
        Assert.StartsWith("OK: ", output, StringComparison.Ordinal);
        var bundle = LineageBundle.FromJson(await File.ReadAllTextAsync(flagFirst.Path));
        var expected = LineageBundle.FromJson(await File.ReadAllTextAsync(epcFirst.Path));
        Assert.Equal(expected.Root, bundle.Root);
        Assert.Equal(expected.Direction, bundle.Direction);
        Assert.Equal(expected.Receipts.Select(r => r.EventId).Order(StringComparer.Ordinal), bundle.Receipts.Select(r => r.EventId).Order(StringComparer.Ordinal));
        Assert.NotEmpty(bundle.Receipts);
    }

    [Theory]
    [InlineData("edge retargeted", "does not transform")]
    [InlineData("edge moved to another event", "does not transform")]
    [InlineData("edge position changed", "not where the edge says")]
    [InlineData("receipt event altered", "receipt of")]
    [InlineData("receipt dropped", "no receipt for its event")]
    [InlineData("unconnected edge added", "not connected to the root")]
    public async Task VerifyLineage_TamperedUpstreamBundle_Exit1WithReason(string tampering, string reason)
    {
        var bundle = LineageBundle.FromJson(await ProofAsync(GenealogyScenario.Module, "upstream"));
        var edges = bundle.Edges.ToList();
        var receipts = bundle.Receipts.ToList();
        var dicing = edges.FindIndex(e => e.EventId == scenario.Dicing);
        switch (tampering)
        {
            case "edge retargeted":
                edges[dicing] = edges[dicing] with { To = C(GenealogyScenario.Module) };
                break;
            case "edge moved to another event":
                var assembly = edges.Single(e => e.EventId == scenario.Assembly && e.From == C(GenealogyScenario.Chips[0]));
                edges[dicing] = edges[dicing] with { EventId = assembly.EventId, Position = assembly.Position };
                break;
            case "edge position changed":
                edges[dicing] = edges[dicing] with { Position = edges[dicing].Position with { LeafIndex = edges[dicing].Position.LeafIndex + 1 } };
                break;
            case "receipt event altered":
                var i = receipts.FindIndex(r => r.EventId == scenario.Dicing);
                var altered = System.Text.Json.Nodes.JsonNode.Parse(receipts[i].Event?.GetRawText() ?? "{}")?.AsObject() ?? [];
                altered["bizStep"] = "repairing";
                receipts[i] = receipts[i] with { Event = JsonSerializer.SerializeToElement(altered) };
                break;
            case "receipt dropped":
                receipts.RemoveAll(r => r.EventId == scenario.Packaging[0]);
                break;
            case "unconnected edge added":
                var packing = await scenario.PositionOfAsync(scenario.Packing[1]);
                edges.Add(new TraceEdge(C(GenealogyScenario.Chips[2]), C(GenealogyScenario.Tray2), "aggregation", scenario.Packing[1], packing));
                receipts.Add(LineageBundle.FromJson(await ProofAsync(GenealogyScenario.Tray2, "upstream")).Receipts.Single(r => r.EventId == scenario.Packing[1]));
                break;
        }

        var (exit, output, error) = await VerifyJsonAsync((bundle with { Edges = edges, Receipts = receipts }).ToJson());

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.StartsWith("INVALID: ", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyLineage_EndOfContainmentForgedOnAnotherTray_Exit1()
    {
        var bundle = LineageBundle.FromJson(await ProofAsync(GenealogyScenario.Dies[2], "downstream"));
        var unpacking = LineageBundle.FromJson(await ProofAsync(GenealogyScenario.Dies[0], "downstream")).Receipts.Single(r => r.EventId == scenario.Unpacking);
        var edges = bundle.Edges.Select(e => e.Kind == "aggregation" ? e with { EndedBy = scenario.Unpacking, EndedAt = new LedgerPosition(unpacking.ChainId, unpacking.Height, unpacking.LeafIndex) } : e).ToList();

        var (exit, _, error) = await VerifyJsonAsync((bundle with { Edges = edges, Receipts = [.. bundle.Receipts, unpacking] }).ToJson());

        Assert.Equal(1, exit);
        Assert.Contains($"event {scenario.Unpacking} does not take", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyLineage_PinnedToAnotherKey_Exit1()
    {
        using var file = new TempFile();
        using var key = new TempFile();
        await File.WriteAllTextAsync(file.Path, await ProofAsync(GenealogyScenario.Module, "upstream"));
        using var other = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        await File.WriteAllTextAsync(key.Path, JsonSerializer.Serialize(Btmc.Ledger.EcPublicJwk.FromECDsa(other)));

        var error = new StringWriter();
        var exit = await BtmcCli.RunAsync(["verify-lineage", file.Path, "--key", key.Path], TextWriter.Null, error);

        Assert.Equal(1, exit);
        Assert.StartsWith("INVALID: receipt of ", error.ToString(), StringComparison.Ordinal);
    }

    private async Task<string> ProofAsync(string epc, string direction)
    {
        using var response = await scenario.Server.Http.GetAsync($"api/trace/{Uri.EscapeDataString(epc)}/proof?direction={direction}&depth=10");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return text;
    }

    private static async Task<(int Exit, string Output, string Error)> VerifyJsonAsync(string json)
    {
        using var file = new TempFile();
        await File.WriteAllTextAsync(file.Path, json);
        return await VerifyAsync(file.Path);
    }

    private static async Task<(int Exit, string Output, string Error)> VerifyAsync(string path)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await BtmcCli.RunAsync(["verify-lineage", path], output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Checks the graph's edges are exactly <paramref name="expected"/> (identifiers in any spelling), each
    /// at the ledger position of its event's receipt, and ended at the position of its DELETE if any.</summary>
    private async Task AssertEdgesAsync(IEnumerable<(string From, string To, string Kind, string EventId, string? EndedBy)> expected, TraceGraph graph)
    {
        var want = expected.Select(e => (C(e.From), C(e.To), e.Kind, e.EventId, e.EndedBy)).Order().ToList();
        var got = graph.Edges.Select(e => (e.From, e.To, e.Kind, e.EventId, e.EndedBy)).Order().ToList();
        Assert.Equal(want, got);
        foreach (var edge in graph.Edges)
        {
            Assert.Equal(await scenario.PositionOfAsync(edge.EventId), edge.Position);
            Assert.Equal(edge.EndedBy is null ? null : await scenario.PositionOfAsync(edge.EndedBy), edge.EndedAt);
        }
    }

    private sealed class TempFile : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"btmc-lineage-{Guid.NewGuid():N}.json");

        public void Dispose() => File.Delete(Path);
    }
}
