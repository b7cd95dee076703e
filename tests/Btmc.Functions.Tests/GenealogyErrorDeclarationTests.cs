using Btmc.Cli;
using Xunit;
using static Btmc.Functions.Tests.TestEvents;

namespace Btmc.Functions.Tests;

public sealed class GenealogyErrorDeclarationTests
{
    private const string Die = "urn:epc:id:sgtin:0614141.400001.1";
    private const string Chip = "urn:epc:id:sgtin:0614141.400002.1";

    [Fact]
    public async Task Trace_TransformationDeclaredErroneous_ShowsOneEdgeFlaggedAndTheProofVerifies()
    {
        await using var server = await LocalServer.StartInProcessAsync();
        var transformation = Transformation([Die], [Chip], 5);
        var made = (await server.CaptureSealedAsync(transformation))[0];
        var declaration = transformation[..^1] + ",\"errorDeclaration\":{\"declarationTime\":\"2026-11-22T11:00:00.000Z\",\"reason\":\"incorrect_data\"}}";
        var declared = (await server.CaptureSealedAsync(declaration))[0];

        var graph = await server.GetJsonAsync("api/trace/" + Uri.EscapeDataString(Chip) + "?direction=upstream&depth=3");
        var edge = Assert.Single(graph.GetProperty("edges").EnumerateArray());

        Assert.Equal(made, edge.GetProperty("eventId").GetString());
        Assert.Equal(declared, edge.GetProperty("errorDeclaration").GetString());
        var bundle = Path.GetTempFileName();
        try
        {
            Assert.Equal(0, await BtmcCli.RunAsync(["trace", Chip, "--url", server.BaseUrl, "--api-key-file", server.ApiKeyFile, "--proof", "--out", bundle], TextWriter.Null, TextWriter.Null));
            var output = new StringWriter();
            var error = new StringWriter();
            Assert.True(await BtmcCli.RunAsync(["verify-lineage", bundle], output, error) == 0, error.ToString());
            Assert.StartsWith("OK: 1 edges", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(bundle);
        }
    }
}
