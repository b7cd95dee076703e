using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Azure.Core;
using Btmc.Chains;
using Btmc.Epcis.Cbv;
using Btmc.Governance;
using Btmc.Ledger;
using Btmc.Platform.Tables;
using Btmc.Supply;
using Btmc.Supply.Genealogy;
using Btmc.Supply.Receipts;

namespace Btmc.Cli;

/// <summary>The <c>btmc</c> command: capture documents, fetch and verify receipts, verify chains online or offline.</summary>
public static class BtmcCli
{
    public const string Usage = """
        usage: btmc <command> [options]

          capture <file|folder> --url <base>     send EPCIS documents (*.json, *.jsonld, *.xml) to POST /api/epcis/capture
                  --api-key-file <file>          the partner's API key (or --api-key <key>, or BTMC_API_KEY)
                  [--parallel N]                 N requests at once (default 4)
          receipt <eventId> --url <base>         print the receipt of a sealed event
                  [--out <file>]                 ...or write it to a file
          verify-receipt <file> [--key <jwk>]    check a receipt offline; --key pins the producer key (a JWK file)
          trace <epc> --url <base>               print the genealogy graph of an identifier
                  [--direction upstream|downstream] [--depth N]
                  [--proof --out <file>]         ...or write its lineage bundle (every event with its receipt)
          verify-lineage <file> [--key <jwk>]    check a lineage bundle offline: every receipt and every edge
          verify-chain --url <base>              ask the backend to verify every chain
          verify-chain --data <folder>           verify the chains of an embedded data folder offline
          epcis hash <file>                      print the CBV 2.0 event hash ID of every event, in document order
                                                 (EPCIS JSON/JSON-LD or XML)
          committee keygen --out <file>          create a member's (or holder's) key file; prints its committee entry
                  [--curve p256|secp256k1] [--member <id>]
          committee list --url <base>            list the proposals
          committee show <id> --url <base>       print exactly what members sign for a proposal, then its status
          committee propose <action> --key <key> --url <base> [--expires-in <hours>]
                  add-producer --producer <id> --producer-key <ref> --public-key <file>
                  remove-producer --producer <id>
                  replace-member --old-member <id> --new-member <id> --public-key <file>
                  allocate-tokens --account <key thumbprint> --amount <n>
                  set-parameter --parameter <name> --value <n>
          committee sign <id> --key <key> --url <base>
                                                 sign a proposal with the member's own key; only the signature is sent
          vote --producers <a,b|none> --key <key> --url <base> [--sequence <n>]
                                                 a token holder's signed vote for block producers
          contributor register --id <id> --resource cpu|gpu|asic --key <key> --url <base>
                                                 register as a compute contributor (the key signs every submission)
          mine --contributor <id> --key <key> --url <base> [--seconds N] [--threads N]
                                                 hash the backend's mining jobs and submit signed shares and heartbeats
          payout <epoch> <contributor> --url <base> [--out <file>]
                                                 a contributor's payout receipt for a closed reward epoch
          verify-payout <file> [--key <jwk>]     check a payout receipt offline
          compute submit hash-range --header <hex> --bits <n> --count <n> [--start <n>] [--task-size <n>]
          compute submit digest <file|url>... [--files-per-task <n>]
          compute submit render --scene <file.blend|url> --frames <a>-<b> [--frames-per-task <n>]
                  [--engine CYCLES|BLENDER_EEVEE|BLENDER_WORKBENCH]
                  --url <base> --api-key-file <file> [--contributors <a,b,...>] [--wait]
                                                 submit a compute job; --wait shows a progress bar until it is
                                                 done, then prints the job (results, verification, credits)
          compute status <id> --url <base> [--wait]
                                                 print a compute job
          worker hash-range --header <hex> --bits <n> --start <n> --count <n> [--threads <n>]
          worker digest <file>...
          worker render --scene <file.blend> --frames <a>-<b> [--engine <engine>]
                                                 run one compute task here: prints its JSON result, writes out/
          (<key>: a Key Vault key id https://<vault>.vault.azure.net/keys/<name>[/<version>], signed in the vault
           as the signed-in identity, or a local key file, PEM; [--member <id>] checks the key is that member's)

        Exit codes: 0 success, 1 verification, capture, job or task failure, 2 usage error.
        """;

    /// <summary>Runs one command line; returns the exit code.</summary>
    /// <param name="credential">Signs with Key Vault keys (<c>--key https://…</c>); DefaultAzureCredential when null.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default, TokenCredential? credential = null)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            output.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        var parsed = new CliArguments(args.Skip(1));
        try
        {
            return args[0] switch
            {
                "capture" => await CaptureCommand.RunAsync(parsed, output, error, cancellationToken),
                "receipt" => await ReceiptAsync(parsed, output, cancellationToken),
                "verify-receipt" => VerifyReceipt(parsed, output, error),
                "trace" => await TraceAsync(parsed, output, cancellationToken),
                "verify-lineage" => VerifyLineage(parsed, output, error),
                "verify-chain" => await VerifyChainAsync(parsed, output, error, cancellationToken),
                "epcis" => EpcisCommand(parsed, output, error),
                "committee" => await CommitteeCommand.RunAsync(parsed, output, error, credential, cancellationToken),
                "vote" => await CommitteeCommand.VoteAsync(parsed, output, error, credential, cancellationToken),
                "contributor" => await MineCommand.RegisterAsync(parsed, output, error, credential, cancellationToken),
                "mine" => await MineCommand.MineAsync(parsed, output, error, credential, cancellationToken),
                "payout" => await MineCommand.PayoutAsync(parsed, output, error, cancellationToken),
                "verify-payout" => MineCommand.VerifyPayout(parsed, output, error),
                "compute" => await ComputeCommand.RunAsync(parsed, output, error, cancellationToken),
                "worker" => await WorkerCommand.RunAsync(parsed, output, error, cancellationToken),
                _ => throw new CliUsageException($"unknown command '{args[0]}'."),
            };
        }
        catch (CliUsageException ex)
        {
            error.WriteLine($"btmc: {ex.Message}");
            error.WriteLine(Usage);
            return 2;
        }
        catch (HttpRequestException ex)
        {
            error.WriteLine($"btmc: {ex.Message}");
            return 1;
        }
    }

    public static HttpClient CreateClient(string baseUrl) => new()
    {
        BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/"),
        Timeout = TimeSpan.FromMinutes(5),
        DefaultRequestHeaders = { Accept = { new MediaTypeWithQualityHeaderValue("application/json") } },
    };

    private static int EpcisCommand(CliArguments args, TextWriter output, TextWriter error)
    {
        if (args.RequirePositional(0, "epcis subcommand (hash)") != "hash")
        {
            throw new CliUsageException($"unknown epcis subcommand '{args.Positional[0]}'.");
        }

        var file = args.RequirePositional(1, "<file>");
        IReadOnlyList<string> preHashes;
        try
        {
            var text = File.ReadAllText(file);
            if (text.TrimStart().StartsWith('<'))
            {
                preHashes = EventHashId.PreHashesFromXml(text);
            }
            else
            {
                using var document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
                preHashes = EventHashId.PreHashesFromJsonDocument(document.RootElement);
            }
        }
        catch (Exception ex) when (ex is IOException or JsonException or System.Xml.XmlException or UnauthorizedAccessException)
        {
            error.WriteLine($"btmc: cannot read {file}: {ex.Message}");
            return 1;
        }

        foreach (var preHash in preHashes)
        {
            output.WriteLine(EventHashId.FromPreHash(preHash));
        }

        return 0;
    }

    private static async Task<int> ReceiptAsync(CliArguments args, TextWriter output, CancellationToken cancellationToken)
    {
        var eventId = args.RequirePositional(0, "<eventId>");
        return await FetchAsync(args, "api/ledger/receipts/" + Uri.EscapeDataString(eventId), $"receipt of {eventId}", output, cancellationToken);
    }

    /// <summary>GETs a JSON document and prints it, or writes it to <c>--out</c>; a refusal is printed and exits 1.</summary>
    private static async Task<int> FetchAsync(CliArguments args, string path, string what, TextWriter output, CancellationToken cancellationToken)
    {
        using var http = CreateClient(args.Require("url"));
        using var response = await http.GetAsync(path, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            output.WriteLine(body);
            return 1;
        }

        if (args.Option("out") is string file)
        {
            await File.WriteAllTextAsync(file, body, cancellationToken);
            output.WriteLine($"{what} written to {file}");
        }
        else
        {
            output.WriteLine(body);
        }

        return 0;
    }

    private static async Task<int> TraceAsync(CliArguments args, TextWriter output, CancellationToken cancellationToken)
    {
        var epc = args.RequirePositional(0, "<epc>");
        var direction = args.Option("direction") ?? "upstream";
        var depth = args.Option("depth") ?? "10";
        var proof = args.Option("proof") is "true";
        var path = $"api/trace/{Uri.EscapeDataString(epc)}{(proof ? "/proof" : string.Empty)}?direction={Uri.EscapeDataString(direction)}&depth={Uri.EscapeDataString(depth)}";
        return await FetchAsync(args, path, $"{(proof ? "lineage bundle" : "trace")} of {epc}", output, cancellationToken);
    }

    private static int VerifyLineage(CliArguments args, TextWriter output, TextWriter error) =>
        VerifyFile(args, output, error, LineageBundle.FromJson, (bundle, trusted) =>
        {
            var result = LineageVerifier.Verify(bundle, trusted);
            return (result.Failure, $"{result.Edges} edges {bundle.Direction} of {bundle.Root} (depth {bundle.Depth}{(bundle.Truncated ? ", truncated" : string.Empty)}), " +
                $"{result.Events} events, every receipt verified, signed by key(s) {string.Join(", ", result.KeyThumbprints)}");
        });

    private static int VerifyReceipt(CliArguments args, TextWriter output, TextWriter error) =>
        VerifyFile(args, output, error, Receipt.FromJson, (receipt, trusted) =>
        {
            var result = ReceiptVerifier.Verify(receipt, trusted);
            return (result.Failure, $"{receipt.EventId} is leaf {receipt.LeafIndex} of {receipt.ChainId} block {receipt.Height} ({receipt.BlockHash}), signed by {receipt.BlockHeader.ProducerId} with key {result.KeyThumbprint}");
        });

    /// <summary>Reads a proof file (and the optional <c>--key</c> JWK to pin), verifies it offline, prints OK or INVALID.</summary>
    private static int VerifyFile<T>(CliArguments args, TextWriter output, TextWriter error, Func<string, T> parse, Func<T, EcPublicJwk?, (string? Failure, string Summary)> verify)
    {
        var file = args.RequirePositional(0, "<file>");
        T proof;
        EcPublicJwk? trusted = null;
        try
        {
            proof = parse(File.ReadAllText(file));
            if (args.Option("key") is string keyFile)
            {
                trusted = JsonSerializer.Deserialize<EcPublicJwk>(File.ReadAllText(keyFile)) ?? throw new JsonException("The key file is empty.");
            }
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            error.WriteLine($"INVALID: cannot read {file}: {ex.Message}");
            return 1;
        }

        var (failure, summary) = verify(proof, trusted);
        if (failure is not null)
        {
            error.WriteLine($"INVALID: {failure}");
            return 1;
        }

        output.WriteLine($"OK: {summary}{(trusted is null ? " (key not pinned: pass --key to trust a specific key)" : " (pinned)")}");
        return 0;
    }

    private static async Task<int> VerifyChainAsync(CliArguments args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        LedgerAudit audit;
        var watch = Stopwatch.StartNew();
        if (args.Option("data") is string folder)
        {
            audit = await AuditFolderAsync(folder, cancellationToken);
        }
        else
        {
            using var http = CreateClient(args.Require("url"));
            using var response = await http.GetAsync("api/ledger/verify", cancellationToken);
            response.EnsureSuccessStatusCode();
            audit = JsonSerializer.Deserialize<LedgerAudit>(await response.Content.ReadAsStringAsync(cancellationToken), JsonSerializerOptions.Web)
                ?? throw new JsonException("empty verification answer");
        }

        foreach (var chain in audit.Chains)
        {
            var line = chain.Fault is null
                ? $"OK      {chain.ChainId}: {chain.Blocks} blocks, {chain.Entries} entries, head {chain.HeadHash}"
                : $"BROKEN  {chain.ChainId}: block {chain.Fault.Height}: {chain.Fault.Reason} ({chain.Blocks} blocks verified before it)";
            (chain.Fault is null ? output : error).WriteLine(line);
        }

        output.WriteLine($"{audit.Chains.Count} chains, {audit.Chains.Sum(c => c.Blocks)} blocks, {audit.Chains.Sum(c => c.Entries)} entries verified in {watch.Elapsed.TotalSeconds:F1} s: {(audit.IsValid ? "valid" : "INVALID")}");
        return audit.IsValid ? 0 : 1;
    }

    /// <summary>Verifies an embedded data folder (as written by the local backend) without a server.</summary>
    public static async Task<LedgerAudit> AuditFolderAsync(string folder, CancellationToken cancellationToken = default)
    {
        var database = Path.Combine(folder, "tables.db");
        if (!File.Exists(database))
        {
            throw new CliUsageException($"{folder} holds no embedded ledger (no tables.db).");
        }

        using var service = new SqliteTableServiceClient(database);
        var options = new SupplyOptions();
        var auditor = new LedgerAuditor(new ChainReader(new ChainTables(service)));
        return await auditor.AuditAsync(Enumerable.Range(0, options.Partitions).Select(options.ChainId), SupplyAuditor.CheckEntry, cancellationToken);
    }
}
