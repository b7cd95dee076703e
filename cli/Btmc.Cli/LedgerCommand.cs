using System.CommandLine;
using System.Text.Json;
using Btmc.Ledger;
using Btmc.Ledger.Transparency;
using Btmc.Supply.Genealogy;
using Btmc.Supply.Ownership;
using Btmc.Supply.Receipts;

namespace Btmc.Cli;

/// <summary>
/// The ledger's proofs: <c>btmc receipt</c>, <c>verify-receipt</c>, <c>trace</c>, <c>asset</c> and <c>verify-lineage</c>
/// (<c>verify-chain</c> and <c>export</c> are <see cref="AuditCommand"/>).
/// </summary>
internal static class LedgerCommand
{
    public static IEnumerable<Command> Create() => [GetReceipt(), VerifyReceipt(), Trace(), Asset(), VerifyLineage()];

    private static Command GetReceipt()
    {
        var eventId = new Argument<string>("eventId") { Description = "The event's hash ID (ni:///sha-256;…?ver=CBV2.0)." };
        var url = CliOptions.Url();
        var file = CliOptions.Out("the receipt");
        var command = new Command("receipt", "Print the receipt of a sealed event.") { eventId, url, file };
        ApiKeyOptions.AddOptional(command);
        command.SetAction((parseResult, output, _, cancellationToken) =>
        {
            var id = parseResult.GetRequiredValue(eventId);
            return FetchAsync(parseResult, parseResult.GetRequiredValue(url), "api/ledger/receipts/" + Uri.EscapeDataString(id), $"receipt of {id}", parseResult.GetValue(file), output, cancellationToken);
        });
        return command;
    }

    private static Command Trace()
    {
        var epc = new Argument<string>("epc") { Description = "The identifier to trace, e.g. urn:epc:id:sgtin:4012345.011111.987." };
        var url = CliOptions.Url();
        var direction = new Option<string>("--direction")
        {
            Description = "Follow the identifier's inputs (upstream) or what it went into (downstream).",
            DefaultValueFactory = _ => "upstream",
        }.AcceptOnlyFromAmong("upstream", "downstream");
        var depth = new Option<int>("--depth") { HelpName = "N", Description = "How many edges to follow.", DefaultValueFactory = _ => 10 };
        var proof = CliOptions.Flag("--proof", "Fetch the lineage bundle instead: every event with its receipt, to check offline with verify-lineage.");
        var file = CliOptions.Out("the graph or bundle");
        var command = new Command("trace", "Print the genealogy graph of an identifier, or its lineage bundle (--proof).") { epc, url, direction, depth, proof, file };
        ApiKeyOptions.AddOptional(command);
        command.SetAction((parseResult, output, _, cancellationToken) =>
        {
            var root = parseResult.GetRequiredValue(epc);
            var bundle = parseResult.GetValue(proof);
            var path = $"api/trace/{Uri.EscapeDataString(root)}{(bundle ? "/proof" : string.Empty)}?direction={parseResult.GetValue(direction)}&depth={parseResult.GetValue(depth)}";
            return FetchAsync(parseResult, parseResult.GetRequiredValue(url), path, $"{(bundle ? "lineage bundle" : "trace")} of {root}", parseResult.GetValue(file), output, cancellationToken);
        });
        return command;
    }

    private static Command Asset()
    {
        var epc = new Argument<string>("epc") { Description = "The identifier, e.g. urn:epc:id:sgtin:4012345.011111.987 or a lot urn:epc:class:lgtin:4012345.011111.LOT-7." };
        var url = CliOptions.Url();
        var proof = CliOptions.Flag("--proof", "Fetch the asset bundle instead: the history with a receipt for every event it was derived from, to check offline with verify-lineage.");
        var file = CliOptions.Out("the state or bundle");
        var command = new Command("asset", "Print an identifier's owner, custodian and history of changes, or its asset bundle (--proof).") { epc, url, proof, file };
        ApiKeyOptions.AddOptional(command);
        command.SetAction((parseResult, output, _, cancellationToken) =>
        {
            var id = parseResult.GetRequiredValue(epc);
            var bundle = parseResult.GetValue(proof);
            var path = $"api/assets/{Uri.EscapeDataString(id)}{(bundle ? "/proof" : string.Empty)}";
            return FetchAsync(parseResult, parseResult.GetRequiredValue(url), path, $"{(bundle ? "asset bundle" : "ownership")} of {id}", parseResult.GetValue(file), output, cancellationToken);
        });
        return command;
    }

    /// <summary>GETs a JSON document and prints it, or writes it to <paramref name="file"/>; a refusal is printed and exits 1.</summary>
    public static async Task<int> FetchAsync(ParseResult parseResult, Uri url, string path, string what, FileInfo? file, TextWriter output, CancellationToken cancellationToken)
    {
        using var http = BtmcCli.CreateClient(url, parseResult);
        using var response = await http.GetAsync(path, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            output.WriteLine(body);
            return 1;
        }

        if (file is not null)
        {
            await File.WriteAllTextAsync(file.FullName, body, cancellationToken);
            output.WriteLine($"{what} written to {file}");
        }
        else
        {
            output.WriteLine(body);
        }

        return 0;
    }

    // One command for both bundles (told apart by their "format"): each is a set of receipts and claims about them.
    private static Command VerifyLineage() =>
        VerifyFile<object>("verify-lineage", "Check a lineage bundle (btmc trace --proof) or an asset bundle (btmc asset --proof) offline: every receipt, and every edge or ownership step.",
            json => AssetBundle.IsAssetBundle(json) ? AssetBundle.FromJson(json) : LineageBundle.FromJson(json), (proof, trusted) =>
        {
            if (proof is AssetBundle asset)
            {
                var checkedAsset = AssetVerifier.Verify(asset, trusted);
                return (checkedAsset.Failure, $"{asset.Epc} is owned by {Describe(asset.Owner)} and held by {Describe(asset.Custodian)}: {checkedAsset.Steps} history steps, " +
                    $"{checkedAsset.Events} events, every receipt verified, signed by key(s) {string.Join(", ", checkedAsset.KeyThumbprints)}" +
                    (checkedAsset.Replayed ? "; replaying the events gives the stated owner, custodian and history"
                        : $"; {checkedAsset.Redacted} events redacted (each proven sealed at its position, its content not shown), so the derivation was not replayed"));
            }

            var bundle = (LineageBundle)proof;
            var result = LineageVerifier.Verify(bundle, trusted);
            return (result.Failure, $"{result.Edges} edges {bundle.Direction} of {bundle.Root} (depth {bundle.Depth}{(bundle.Truncated ? ", truncated" : string.Empty)}), " +
                $"{result.Events} events, every receipt verified, signed by key(s) {string.Join(", ", result.KeyThumbprints)}" +
                (result.Redacted > 0 ? $"; {result.Redacted} edges redacted (events you may not read: each proven sealed at its position, its content not shown)" : string.Empty));
        });

    private static string Describe(AssetHolder holder) =>
        holder.PartnerId is { } partner ? (holder.Party is { } party ? $"partner {partner} ({party})" : $"partner {partner}") : $"party {holder.Party}";

    private static Command VerifyReceipt()
    {
        var document = new Option<FileInfo>("--document")
        {
            HelpName = "file",
            Description = "Also prove that the partner's registered key signed this document (the capture request body, byte for byte) and that it holds the receipt's event.",
        }.AcceptExistingOnly();
        var witnessKeys = new Option<string[]>("--witness-key")
        {
            HelpName = "vkey",
            Description = "A witness you trust, by its verifier key (repeat for several): it vouches when the receipt carries its valid cosignature on a checkpoint consistent with the event's.",
        };
        var required = new Option<int>("--witnesses")
        {
            HelpName = "n",
            Description = "How many distinct --witness-key witnesses must vouch for the event's checkpoint (default 0).",
        }.AtLeast(0);
        var command = VerifyFile("verify-receipt", "Check a receipt offline.", Receipt.FromJson, (receipt, trusted, parseResult) =>
        {
            var witnesses = new List<Cosigner>();
            foreach (var vkey in parseResult.GetValue(witnessKeys) ?? [])
            {
                try
                {
                    witnesses.Add(Cosigner.ParseVerifierKey(vkey));
                }
                catch (FormatException ex)
                {
                    throw new CliUsageException($"--witness-key {vkey}: {ex.Message}");
                }
            }

            var needed = parseResult.GetValue(required);
            if (needed > witnesses.DistinctBy(w => Convert.ToHexString([.. w.TypeBytes, .. w.PublicKey])).Count())
            {
                throw new CliUsageException($"--witnesses {needed}: give at least {needed} distinct --witness-key verifier keys.");
            }

            var result = ReceiptVerifier.Verify(receipt, trusted, witnesses);
            var summary = $"{receipt.EventId} is leaf {receipt.LeafIndex} of {receipt.ChainId} block {receipt.Height} ({receipt.BlockHash}), signed by {receipt.BlockHeader.ProducerId} with key {result.KeyThumbprint}";
            if (result.Failure is not null)
            {
                return (result.Failure, [summary]);
            }

            string[] lines = [summary];
            var vouched = result.Witnesses ?? [];
            if (vouched.Count < needed)
            {
                return ($"{vouched.Count} of the {needed} required witnesses vouched for the event's checkpoint{(vouched.Count > 0 ? $" ({string.Join(", ", vouched)})" : string.Empty)}", lines);
            }

            if (receipt.TreeLeafIndex is { } index)
            {
                lines = [.. lines, $"leaf {index} of the chain-wide tree in the checkpoint the producer signed" +
                    (vouched.Count > 0 ? $"; witnessed by {string.Join(", ", vouched)} (cosigned checkpoints consistent with it)" : string.Empty)];
            }

            if (parseResult.GetValue(document) is not { } file)
            {
                return (null, lines);
            }

            var bytes = File.ReadAllBytes(file.FullName);
            if (ReceiptVerifier.VerifyDocument(receipt, bytes) is { } failure)
            {
                return ($"{file}: {failure}", lines);
            }

            var capture = receipt.Capture!;
            return (null, [.. lines,
                $"{file} (SHA-256 {capture.DocumentSha256}) is the document the leaf attests, holds {receipt.EventId}, and its signature verifies with key " +
                $"{capture.SigningKey.ComputeThumbprint()}, which the ledger recorded as partner {receipt.Partner}'s registered signing key when it accepted the capture"]);
        }, document, witnessKeys, required);
        return command;
    }

    /// <summary>A command that reads a proof file (and the optional <c>--key</c> JWK to pin), verifies it offline, prints OK or INVALID.</summary>
    public static Command VerifyFile<T>(string name, string description, Func<string, T> parse, Func<T, EcPublicJwk?, (string? Failure, string Summary)> verify) =>
        VerifyFile(name, description, parse, (proof, trusted, _) =>
        {
            var (failure, summary) = verify(proof, trusted);
            return (failure, [summary]);
        });

    /// <summary>As above, with options of the command's own (<paramref name="options"/>) that the verification reads; each
    /// summary line is printed after OK.</summary>
    private static Command VerifyFile<T>(string name, string description, Func<string, T> parse, Func<T, EcPublicJwk?, ParseResult, (string? Failure, string[] Summary)> verify, params Option[] options)
    {
        var file = new Argument<string>("file") { Description = "The proof, as fetched with --out." };
        var key = CliOptions.PinnedKey();
        var command = new Command(name, description) { file, key };
        foreach (var option in options)
        {
            command.Add(option);
        }

        command.SetAction((parseResult, output, error) =>
        {
            var path = parseResult.GetRequiredValue(file);
            T proof;
            EcPublicJwk? trusted = null;
            try
            {
                proof = parse(File.ReadAllText(path));
                if (parseResult.GetValue(key) is string keyFile)
                {
                    trusted = JsonSerializer.Deserialize<EcPublicJwk>(File.ReadAllText(keyFile)) ?? throw new JsonException("The key file is empty.");
                }
            }
            catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
            {
                error.WriteLine($"INVALID: cannot read {path}: {ex.Message}");
                return 1;
            }

            string? failure;
            string[] summary;
            try
            {
                (failure, summary) = verify(proof, trusted, parseResult);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                (failure, summary) = ($"cannot read a file the verification needs: {ex.Message}", []);
            }

            if (failure is not null)
            {
                error.WriteLine($"INVALID: {failure}");
                return 1;
            }

            output.WriteLine($"OK: {summary[0]}{(trusted is null ? " (key not pinned: pass --key to trust a specific key)" : " (pinned)")}");
            foreach (var line in summary.Skip(1))
            {
                output.WriteLine($"OK: {line}");
            }

            return 0;
        });
        return command;
    }
}
