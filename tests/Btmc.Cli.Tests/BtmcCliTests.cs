using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Btmc.Governance;
using Btmc.Ledger;
using Btmc.Ledger.Dpos;
using Btmc.Platform.EventLog;
using Btmc.Platform.Keys;
using Btmc.Platform.Tables;
using Btmc.Supply;
using Btmc.Supply.Capture;
using Btmc.Supply.Receipts;
using Btmc.Testing;
using Xunit;

namespace Btmc.Cli.Tests;

public sealed class BtmcCliTests : IAsyncLifetime
{
    private const string Epc = "urn:epc:id:sgtin:0614141.000001.7";
    private readonly string _directory = Directory.CreateTempSubdirectory("btmc-cli-").FullName;
    private string _receiptFile = string.Empty;
    private Receipt? _receipt;

    public async Task InitializeAsync()
    {
        // A real ledger in a temporary data folder, laid out as the server lays it out.
        using var tables = new SqliteTableServiceClient(Path.Combine(_directory, "tables.db"));
        await using var log = new FileEventLog(Path.Combine(_directory, "log"), 4);
        using var signer = LocalKeyFileSigner.OpenOrCreate(Path.Combine(_directory, "keys", "producer.pem"));
        var governance = await GovernanceLedger.StartAsync(tables, string.Empty, new GenesisSettings("cli-test", SlotClock.MinSlotMilliseconds, [], [new GenesisProducer("cli-test", "producer.pem", signer)]));
        var backend = new SupplyBackend(new SupplyOptions(), tables, log, governance.Scheduler);
        await backend.StartAsync();
        var body = Encoding.UTF8.GetBytes(
            "{\"@context\":[],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2026-11-22T10:00:00Z\",\"epcisBody\":{\"eventList\":[" +
            string.Join(",", Enumerable.Range(0, 12).Select(i => $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"2026-11-22T10:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"ADD\",\"epcList\":[\"urn:epc:id:sgtin:0614141.000001.{i}\"]}}")) +
            "]}}");
        var accepted = Assert.IsType<CaptureAccepted>(await backend.Capture.CaptureAsync("partner", body));
        foreach (var sealer in backend.Sealers)
        {
            await sealer.SealAvailableAsync();
        }

        _receipt = await backend.Receipts.GetAsync(accepted.EventIds[3]);
        _receiptFile = Path.Combine(_directory, "receipt.json");
        await File.WriteAllTextAsync(_receiptFile, _receipt!.ToJson());
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task RunAsync_NoArguments_PrintsHelpOnStandardErrorAndExits2()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        Assert.Equal(2, await BtmcCli.RunAsync([], output, error));
        Assert.Empty(output.ToString());
        Assert.Contains("Required command was not provided.", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("btmc [command] [options]", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Help_PrintsEveryCommandAndExits0()
    {
        var output = new StringWriter();

        Assert.Equal(0, await BtmcCli.RunAsync(["--help"], output, TextWriter.Null));
        Assert.All(BtmcCli.CreateRootCommand().Subcommands, c => Assert.Contains($"  {c.Name}", output.ToString(), StringComparison.Ordinal));
    }

    public static TheoryData<string> EveryCommand() => [.. Commands().Select(c => c.Path)];

    public static TheoryData<string, string> EveryOptionTakingAValue()
    {
        var options = new TheoryData<string, string>();
        foreach (var (path, command) in Commands())
        {
            foreach (var option in command.Options.Where(o => o.Arity.MaximumNumberOfValues > 0))
            {
                options.Add(path, option.Name);
            }
        }

        return options;
    }

    /// <summary>Every command and subcommand, with its path after <c>btmc</c>.</summary>
    private static IEnumerable<(string Path, Command Command)> Commands()
    {
        var pending = new Queue<(string Path, Command Command)>(BtmcCli.CreateRootCommand().Subcommands.Select(c => (c.Name, c)));
        while (pending.TryDequeue(out var next))
        {
            yield return next;
            foreach (var subcommand in next.Command.Subcommands)
            {
                pending.Enqueue(($"{next.Path} {subcommand.Name}", subcommand));
            }
        }
    }

    [Theory]
    [MemberData(nameof(EveryCommand))]
    public async Task RunAsync_HelpOfEveryCommand_PrintsItsUsageAndExits0(string command)
    {
        var output = new StringWriter();

        Assert.Equal(0, await BtmcCli.RunAsync([.. command.Split(' '), "--help"], output, TextWriter.Null));
        Assert.Contains($"btmc {command}", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(EveryOptionTakingAValue))]
    public async Task RunAsync_OptionWithoutItsValue_Exits2(string command, string option)
    {
        var error = new StringWriter();

        Assert.Equal(2, await BtmcCli.RunAsync([.. command.Split(' '), option], TextWriter.Null, error));
        Assert.NotEmpty(error.ToString());
    }

    [Theory]
    [InlineData("frobnicate", "Unrecognized command or argument 'frobnicate'.")]
    [InlineData("receipt", "Required argument 'eventId' missing for command: 'receipt'.")]
    [InlineData("receipt x", "Option '--url' is required.")]
    [InlineData("receipt x --url localhost:7071", "--url localhost:7071: not an absolute http or https URL.")]
    [InlineData("verify-chain", "verify-chain needs either --url <base> or --data <folder>.")]
    [InlineData("verify-chain --data . --save-checkpoints notes", "--from-checkpoint and --save-checkpoints go with --url.")]
    [InlineData("export --url http://localhost:7071", "Option '--out' is required.")]
    [InlineData("trace x --url http://localhost:7071 --direction sideways", "Argument 'sideways' not recognized.")]
    [InlineData("trace x --url http://localhost:7071 --depth deep", "Cannot parse argument 'deep' for option '--depth'")]
    [InlineData("trace x --url http://localhost:7071 --proof yes", "Unrecognized command or argument 'yes'.")]
    [InlineData("committee keygen --out k.pem --curve p384", "Argument 'p384' not recognized.")]
    [InlineData("committee show 1234 --url http://localhost:7071", "'1234' is not a proposal id")]
    [InlineData("capture missing-folder --url http://localhost:7071 --api-key k", "File or directory does not exist: 'missing-folder'.")]
    public async Task RunAsync_UnknownCommandOrBadArgument_Exits2WithTheReason(string commandLine, string reason)
    {
        var error = new StringWriter();

        Assert.Equal(2, await BtmcCli.RunAsync(commandLine.Split(' '), TextWriter.Null, error));
        Assert.Contains(reason, error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("trace", "--proof", Epc, "--url", "http://localhost:7071", "--out", "bundle.json")]
    [InlineData("trace", Epc, "--proof", "--url", "http://localhost:7071", "--out", "bundle.json")]
    [InlineData("trace", "--url", "http://localhost:7071", "--out", "bundle.json", "--proof", Epc)]
    public void Parse_TraceProofAnywhere_TheEpcIsTheArgumentAndProofIsSet(params string[] args)
    {
        var parseResult = BtmcCli.CreateRootCommand().Parse(args);

        Assert.Empty(parseResult.Errors);
        Assert.Equal("trace", parseResult.CommandResult.Command.Name);
        Assert.Equal(Epc, parseResult.GetValue<string>("epc"));
        Assert.True(parseResult.GetValue<bool>("--proof"));
        Assert.Equal("bundle.json", parseResult.GetValue<FileInfo>("--out")?.ToString());
    }

    [Fact]
    public void GetCompletions_NoCommandYet_OffersEveryCommand()
    {
        var root = BtmcCli.CreateRootCommand();

        var labels = root.Parse([]).GetCompletions().Select(c => c.Label).ToList();

        Assert.All(root.Subcommands, c => Assert.Contains(c.Name, labels));
        Assert.Contains("verify-chain", labels);
    }

    [Theory]
    [InlineData("trace x --direction ", "downstream upstream")]
    [InlineData("committee keygen --curve ", "p256 secp256k1")]
    [InlineData("contributor register --resource ", "asic cpu gpu")]
    [InlineData("compute submit render --engine ", "BLENDER_EEVEE BLENDER_WORKBENCH CYCLES")]
    [InlineData("compute submit ", "digest hash-range render")]
    public void GetCompletions_OptionWithAllowedValues_OffersThem(string commandLine, string expected)
    {
        var completions = BtmcCli.CreateRootCommand().Parse(commandLine).GetCompletions().Select(c => c.Label).Where(l => !l.StartsWith('-') && !l.StartsWith('/'));

        Assert.Equal(expected.Split(' '), completions);
    }

    [Fact]
    public async Task RunAsync_SuggestDirectiveAsDotnetSuggestSendsIt_PrintsTheCompletions()
    {
        // dotnet-suggest runs the program with the cursor position and the command line after the program's name.
        const string commandLine = "committee keygen --curve s";
        var output = new StringWriter();

        Assert.Equal(0, await BtmcCli.RunAsync([$"[suggest:{commandLine.Length}]", commandLine], output, TextWriter.Null));
        Assert.Equal("secp256k1", output.ToString().Trim());
    }

    [Fact]
    public async Task VerifyReceipt_ValidReceipt_Exits0AndNamesThePosition()
    {
        var output = new StringWriter();

        Assert.Equal(0, await BtmcCli.RunAsync(["verify-receipt", _receiptFile], output, TextWriter.Null));
        Assert.Contains($"is leaf {_receipt!.LeafIndex} of {_receipt.ChainId} block 0", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("key not pinned", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyReceipt_PinnedToTheProducerKey_Exits0()
    {
        var keyFile = Path.Combine(_directory, "producer.jwk");
        await File.WriteAllTextAsync(keyFile, JsonSerializer.Serialize(_receipt!.ProducerKey));
        var output = new StringWriter();

        Assert.Equal(0, await BtmcCli.RunAsync(["verify-receipt", _receiptFile, "--key", keyFile], output, TextWriter.Null));
        Assert.Contains("(pinned)", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyReceipt_PinnedToAnotherKey_Exits1()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var keyFile = Path.Combine(_directory, "other.jwk");
        await File.WriteAllTextAsync(keyFile, JsonSerializer.Serialize(EcPublicJwk.FromECDsa(other)));
        var error = new StringWriter();

        Assert.Equal(1, await BtmcCli.RunAsync(["verify-receipt", _receiptFile, "--key", keyFile], TextWriter.Null, error));
        Assert.Contains("not by the trusted key", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyReceipt_OneCharacterOfTheProofChanged_Exits1WithTheReason()
    {
        var proof = _receipt!.InclusionProof.ToList();
        proof[^1] = proof[^1][..^1] + (proof[^1][^1] == '0' ? '1' : '0');
        var tampered = Path.Combine(_directory, "tampered.json");
        await File.WriteAllTextAsync(tampered, (_receipt with { InclusionProof = proof }).ToJson());
        var error = new StringWriter();

        Assert.Equal(1, await BtmcCli.RunAsync(["verify-receipt", tampered], TextWriter.Null, error));
        Assert.StartsWith("INVALID: ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyReceipt_NotAReceipt_Exits1()
    {
        var file = Path.Combine(_directory, "garbage.json");
        await File.WriteAllTextAsync(file, "{ not json");
        var error = new StringWriter();

        Assert.Equal(1, await BtmcCli.RunAsync(["verify-receipt", file], TextWriter.Null, error));
        Assert.Contains("cannot read", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyChain_DataFolder_Exits0WithTheTotals()
    {
        var output = new StringWriter();

        Assert.Equal(0, await BtmcCli.RunAsync(["verify-chain", "--data", _directory], output, TextWriter.Null));
        // The 12 captured events, and the governance chain's genesis record.
        Assert.Contains("OK      governance: 1 blocks, 1 entries", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("13 entries verified", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("epcisDocWithVariousEventTypes.jsonld")]
    [InlineData("epcisDocWithVariousEventTypes.xml")]
    public async Task EpcisHash_SharedVector_PrintsTheExpectedHashIdsInDocumentOrder(string file)
    {
        var output = new StringWriter();

        Assert.Equal(0, await BtmcCli.RunAsync(["epcis", "hash", SharedTestData.PathOf("epcis-hash", file)], output, TextWriter.Null));
        Assert.Equal(
            File.ReadAllLines(SharedTestData.PathOf("epcis-hash", "epcisDocWithVariousEventTypes.hashes")).Where(l => l.Length > 0),
            output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task EpcisHash_NotADocument_Exits1()
    {
        var file = Path.Combine(_directory, "not.json");
        await File.WriteAllTextAsync(file, "{ nope");
        var error = new StringWriter();

        Assert.Equal(1, await BtmcCli.RunAsync(["epcis", "hash", file], TextWriter.Null, error));
        Assert.Contains("cannot read", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyChain_FromCheckpointFileWithoutANote_Exits2BeforeAnyRequest()
    {
        var file = Path.Combine(_directory, "trusted.notes");
        await File.WriteAllTextAsync(file, "not a checkpoint\n");
        var error = new StringWriter();

        // Port 9 (discard) on loopback: nothing answers, so a request made before the notes were read would fail with 1.
        Assert.Equal(2, await BtmcCli.RunAsync(["verify-chain", "--url", "http://127.0.0.1:9", "--from-checkpoint", file], TextWriter.Null, error));
        Assert.Contains("a checkpoint note is malformed", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyChain_FolderWithoutLedger_Exits2()
    {
        var empty = Directory.CreateTempSubdirectory("btmc-empty-");
        try
        {
            Assert.Equal(2, await BtmcCli.RunAsync(["verify-chain", "--data", empty.FullName], TextWriter.Null, TextWriter.Null));
        }
        finally
        {
            empty.Delete();
        }
    }
}
