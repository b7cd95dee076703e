using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Btmc.Chains;
using Btmc.Governance;
using Btmc.Ledger;
using Btmc.Ledger.Dpos;
using Btmc.Ledger.Transparency;
using Btmc.Platform.Tables;
using Btmc.Supply;
using Btmc.Supply.Receipts;

namespace Btmc.Cli;

/// <summary>
/// What <c>btmc export</c> writes beside the copied tables (export.json): where the copy came from, its chains, and
/// which of them hold leaf material only (supply chains: no event bodies), which <c>verify-chain --data</c> then checks
/// with <see cref="AuditCommand.LeafOnly"/>.
/// </summary>
internal sealed record ExportManifest(string Source, string Deployment, DateTimeOffset ExportedAt, IReadOnlyList<string> Chains, IReadOnlyList<string> LeafOnlyChains, string Note)
{
    public const string FileName = "export.json";
}

/// <summary>
/// Independent verification (docs/ledger-format.md, "Independent verification"): <c>btmc verify-chain</c> over a
/// backend's leaf material (<c>--url</c>, optionally only the growth after trusted checkpoints) or a data folder or
/// export (<c>--data</c>), and <c>btmc export</c>, which writes a backend's chains to a folder for offline checks.
/// </summary>
internal static class AuditCommand
{
    private const string GovernanceChain = GovernanceReplay.ChainId;

    private const string LeafOnlyNote = "supply chains are checked from their leaf material only: event bodies are not downloaded " +
        "(they are partners' data); that each stored body hashes to its leaf is the server's own audit (GET /api/ledger/verify)";

    public static IEnumerable<Command> Create() => [VerifyChain(), Export()];

    /// <summary>
    /// The entry check of a supply chain copied without bodies: the leaf is computed from the downloaded material, so
    /// there is nothing more to check of it than that no body came with it (a copy holding one is not leaf material).
    /// </summary>
    public static string? LeafOnly(StoredEntry entry) =>
        entry.Event.IsEmpty ? null : "a leaf-only copy holds an event body";

    private static Command VerifyChain()
    {
        var url = CliOptions.Url();
        url.Required = false;
        var data = new Option<DirectoryInfo>("--data")
        {
            HelpName = "folder",
            Description = "Verify the chains of an embedded data folder (as the local backend writes it) or of a folder btmc export wrote, offline.",
        }.AcceptExistingOnly();
        var fromCheckpoint = new Option<FileInfo>("--from-checkpoint")
        {
            HelpName = "file",
            Description = "With --url: signed checkpoint notes you trust (as GET /api/ledger/checkpoints/{chain} or --save-checkpoints wrote them). " +
                "Each chain with one is verified only after it, and proven consistent with it; governance is always verified whole.",
        }.AcceptExistingOnly();
        var saveCheckpoints = new Option<FileInfo>("--save-checkpoints")
        {
            HelpName = "file",
            Description = "With --url: after a valid run, write every chain's latest verified checkpoint here, for the next run's --from-checkpoint.",
        };
        var command = new Command("verify-chain",
            "Verify every chain on this machine: download the backend's blocks and leaf material (--url) and re-derive every hash, root, signature, " +
            "the producer schedule and every checkpoint; or read a data folder or export offline (--data).")
        {
            url, data, fromCheckpoint, saveCheckpoints,
        };
        ApiKeyOptions.AddOptional(command);
        command.Validators.Add(result =>
        {
            if ((result.GetResult(url) is null) == (result.GetResult(data) is null))
            {
                result.AddError("verify-chain needs either --url <base> or --data <folder>.");
            }
            else if (result.GetResult(data) is not null && (result.GetResult(fromCheckpoint) is not null || result.GetResult(saveCheckpoints) is not null))
            {
                result.AddError("--from-checkpoint and --save-checkpoints go with --url.");
            }
        });
        command.SetAction(async (parseResult, output, error, cancellationToken) =>
        {
            var watch = Stopwatch.StartNew();
            if (parseResult.GetValue(data) is { } folder)
            {
                var (audit, leafOnly) = await AuditFolderAsync(folder, cancellationToken);
                if (leafOnly)
                {
                    output.WriteLine($"NOTE    {LeafOnlyNote}");
                }

                return Report(audit, watch, output, error);
            }

            var trusted = parseResult.GetValue(fromCheckpoint) is { } file ? ReadNotes(file) : [];
            var scratch = Directory.CreateTempSubdirectory("btmc-verify-");
            try
            {
                using var http = BtmcCli.CreateClient(parseResult.GetRequiredValue(url), parseResult);
                using var service = new SqliteTableServiceClient(Path.Combine(scratch.FullName, "tables.db"));
                var tables = new ChainTables(service);
                await tables.CreateIfNotExistsAsync(cancellationToken);
                var download = new LedgerDownload(http, tables, new ProgressBar(error, 0));
                var (audit, leafOnly) = await VerifyRemoteAsync(download, trusted, cancellationToken);
                if (leafOnly)
                {
                    output.WriteLine($"NOTE    {LeafOnlyNote}");
                }

                var exit = Report(audit, watch, output, error);
                if (exit == 0 && parseResult.GetValue(saveCheckpoints) is { } save)
                {
                    var notes = await LatestNotesAsync(new ChainReader(tables), audit.Chains.Select(c => c.ChainId), cancellationToken);
                    await File.WriteAllTextAsync(save.FullName, string.Join("\n", notes), cancellationToken);
                    output.WriteLine($"{notes.Count} checkpoints written to {save}");
                }

                return exit;
            }
            finally
            {
                scratch.Delete(recursive: true);
            }
        });
        return command;
    }

    /// <summary>Prints one line per chain and the summary; 0 when every chain is valid, else 1.</summary>
    private static int Report(LedgerAudit audit, Stopwatch watch, TextWriter output, TextWriter error)
    {
        foreach (var chain in audit.Chains)
        {
            var span = chain.FromSize > 0 ? $"from size {chain.FromSize} to {chain.FromSize + chain.Entries} (block {chain.FromHeight} on): " : string.Empty;
            var line = chain.Fault is null
                ? $"OK      {chain.ChainId}: {span}{chain.Blocks} blocks, {chain.Entries} entries, head {chain.HeadHash}"
                : $"BROKEN  {chain.ChainId}: block {chain.Fault.Height}: {chain.Fault.Reason} ({span}{chain.Blocks} blocks verified before it)";
            (chain.Fault is null ? output : error).WriteLine(line);
        }

        output.WriteLine($"{audit.Chains.Count} chains, {audit.Chains.Sum(c => c.Blocks)} blocks, {audit.Chains.Sum(c => c.Entries)} entries verified in {watch.Elapsed.TotalSeconds:F1} s: {(audit.IsValid ? "valid" : "INVALID")}");
        return audit.IsValid ? 0 : 1;
    }

    /// <summary>
    /// Downloads every chain (governance whole; a chain with a trusted checkpoint only after it) and audits the copy.
    /// Returns the audit and whether any chain was leaf material only.
    /// </summary>
    private static async Task<(LedgerAudit Audit, bool LeafOnly)> VerifyRemoteAsync(LedgerDownload download, IReadOnlyList<SignedNote> trusted, CancellationToken cancellationToken)
    {
        var chains = await download.ListChainsAsync(cancellationToken);
        var trustedByChain = new Dictionary<string, (SignedNote Note, Checkpoint Checkpoint)>(StringComparer.Ordinal);
        foreach (var note in trusted)
        {
            Checkpoint checkpoint;
            try
            {
                checkpoint = Checkpoint.Parse(note.Text);
            }
            catch (FormatException ex)
            {
                throw new CliUsageException($"A trusted note is not a checkpoint: {ex.Message}");
            }

            var chainId = LeafMaterial.ChainOf(checkpoint.Origin) ?? throw new CliUsageException($"The trusted checkpoint of origin '{checkpoint.Origin}' is not a btmc chain's.");
            trustedByChain[chainId] = (note, checkpoint);
        }

        download.Expect(chains.Where(c => c.ChainId == GovernanceChain || !trustedByChain.ContainsKey(c.ChainId)).Sum(c => c.Height + 1));
        await download.DownloadAsync(GovernanceChain, 0, cancellationToken);
        var reader = new ChainReader(download.Tables);
        var auditor = new LedgerAuditor(reader);
        var (governance, replay) = await auditor.AuditGovernanceAsync(cancellationToken);
        var failed = new List<ChainAudit>();
        var starts = new Dictionary<string, ChainStart>(StringComparer.Ordinal);
        foreach (var chain in chains.Where(c => c.ChainId != GovernanceChain))
        {
            var from = 0L;
            if (trustedByChain.TryGetValue(chain.ChainId, out var trust))
            {
                if (replay.Rules is not { } rules || !governance.IsValid)
                {
                    // Resuming needs the schedule, which only a valid governance chain gives.
                    failed.Add(new ChainAudit(chain.ChainId, 0, 0, null, new ChainFault(chain.ChainId, trust.Checkpoint.Block?.Height ?? 0, "not verified: the governance chain is not valid, so the producer schedule is unknown"), (trust.Checkpoint.Block?.Height ?? -1) + 1, trust.Checkpoint.Size));
                    continue;
                }

                var (start, failure) = await ResumeAsync(download, chain.ChainId, trust.Note, trust.Checkpoint, rules, cancellationToken);
                if (start is null)
                {
                    failed.Add(new ChainAudit(chain.ChainId, 0, 0, null, new ChainFault(chain.ChainId, trust.Checkpoint.Block?.Height ?? 0, failure!), (trust.Checkpoint.Block?.Height ?? -1) + 1, trust.Checkpoint.Size));
                    continue;
                }

                starts[chain.ChainId] = start;
                from = start.Trusted.Header.Height + 1;
                download.Expect(Math.Max(0, chain.Height - start.Trusted.Header.Height));
            }

            await download.DownloadAsync(chain.ChainId, from, cancellationToken);
        }

        // A chain the auditor holds a checkpoint of must still be there.
        foreach (var (chainId, trust) in trustedByChain.Where(t => !chains.Any(c => c.ChainId == t.Key)))
        {
            failed.Add(new ChainAudit(chainId, 0, 0, null, new ChainFault(chainId, trust.Checkpoint.Block?.Height ?? 0, $"the server no longer lists the chain, of which a checkpoint of size {trust.Checkpoint.Size} is trusted"), 0, trust.Checkpoint.Size));
        }

        download.Finish();
        var leafChains = chains.Select(c => c.ChainId).Where(c => c != GovernanceChain && !download.RecordChains.Contains(c) && !failed.Any(f => f.ChainId == c)).ToList();
        var audit = await auditor.AuditAsync(leafChains, LeafOnly, starts, cancellationToken);
        var verdicts = new List<ChainAudit>();
        foreach (var chain in audit.Chains)
        {
            verdicts.Add(await CheckTrustedAsync(download, reader, chain, trustedByChain.TryGetValue(chain.ChainId, out var trust) ? trust : null, cancellationToken));
        }

        verdicts.AddRange(failed);
        return (new LedgerAudit([.. verdicts.Take(1), .. verdicts.Skip(1).OrderBy(c => c.ChainId, StringComparer.Ordinal)]), leafChains.Count > 0);
    }

    /// <summary>
    /// Where to resume a chain after a trusted checkpoint: the server's checkpoint of that size must be the trusted
    /// note's text, its frontier must fold to the trusted root, and the headers back from the trusted block must hash
    /// and link down to the last block before the trusted block's round, whose signature seeds the producer schedule.
    /// Writes the trusted block's header (without entries) into the copy. Returns the start, or why not.
    /// </summary>
    private static async Task<(ChainStart? Start, string? Failure)> ResumeAsync(LedgerDownload download, string chainId, SignedNote note, Checkpoint trusted, DposRules rules, CancellationToken cancellationToken)
    {
        if (trusted.Block is not { } trustedBlock)
        {
            return (null, $"the trusted checkpoint of size {trusted.Size} names no block");
        }

        RemoteCheckpoint remote;
        try
        {
            remote = await download.CheckpointAsync(chainId, trusted.Size, cancellationToken);
        }
        catch (HttpRequestException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return (null, $"the server has no checkpoint of size {trusted.Size}: the history the trusted checkpoint commits to is gone");
        }

        if (!string.Equals(SignedNote.Parse(remote.Checkpoint).Text, note.Text, StringComparison.Ordinal))
        {
            return (null, $"the server's checkpoint of size {trusted.Size} is not the trusted one: the history was rewritten");
        }

        var frontier = MerkleFrontier.FromNodes(trusted.Size, remote.Frontier.Select(Hash32.FromHex));
        if (frontier.ComputeRoot() != trusted.RootHash)
        {
            return (null, $"the server's frontier at size {trusted.Size} does not fold to the trusted root {trusted.RootHash}");
        }

        // Back from the trusted block, headers only: each must hash to what the block above it (or the trusted
        // checkpoint) names, down to the last block of an earlier round, whose signature seeds the schedule.
        StoredBlock? start = null;
        LeafBlock? startRow = null;
        var expect = trustedBlock.BlockHash;
        var seed = Array.Empty<byte>();
        long round = -1;
        var low = trustedBlock.Height;
        while (low >= 0 && (start is null || seed.Length == 0))
        {
            var from = Math.Max(0, low - 63);
            var page = await download.PageAsync(chainId, from, (int)(low - from + 1), entries: false, cancellationToken);
            foreach (var row in page.Blocks.Where(b => b.Height <= low).OrderByDescending(b => b.Height))
            {
                var header = BlockHeader.Decode(row.Header);
                var hash = header.ComputeHash();
                if (hash != expect || header.Height != row.Height)
                {
                    return (null, $"block {row.Height}'s header does not hash to what {(start is null ? "the trusted checkpoint" : $"block {row.Height + 1}")} names");
                }

                if (rules.Clock.SlotOf(header.SlotTime) is not { } slot)
                {
                    return (null, $"block {row.Height} is not at a slot start");
                }

                // A signature is not covered by the block hash: the trusted block's and the seed's must verify with
                // the key their header names, so that the schedule resumes from what the producers signed.
                var signs = start is null || rules.Clock.RoundOf(slot) < round;
                if (signs && !SignedByNamedKey(page, header, hash, row.Signature))
                {
                    return (null, $"block {row.Height}'s signature does not verify with the producer key its header names");
                }

                if (start is null)
                {
                    start = new StoredBlock(header, row.Signature, hash, 0, 0, trusted.Size, Checkpoint: note.Format());
                    startRow = row with { Entries = null, Checkpoint = note.Format(), TotalEntries = trusted.Size, Frontier = frontier.Nodes.Select(n => n.ToHex()).ToList() };
                    round = rules.Clock.RoundOf(slot);
                }
                else if (rules.Clock.RoundOf(slot) < round)
                {
                    seed = row.Signature;
                    break;
                }

                expect = header.PreviousHash;
            }

            if (page.Blocks.Count == 0 || from == 0)
            {
                break;
            }

            low = from - 1;
        }

        if (start is null)
        {
            return (null, $"the server has no block {trustedBlock.Height}");
        }

        await LeafMaterial.WriteAsync(download.Tables, chainId, startRow!, cancellationToken);
        return (new ChainStart(start, frontier, seed), null);
    }

    /// <summary>Whether the signature verifies with the page's producer key of the header's key id (a malformed key does not).</summary>
    private static bool SignedByNamedKey(LeafPage page, BlockHeader header, Hash32 hash, byte[] signature)
    {
        try
        {
            return page.ProducerKeys.GetValueOrDefault(header.KeyId) is { } key && key.ComputeThumbprint() == header.KeyId && BlockSignature.Verify(key, hash, signature);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>
    /// For a chain with a trusted checkpoint: governance (verified whole) must hold the trusted checkpoint at its size;
    /// any other chain that grew must have a consistency proof from the trusted size to its verified head that verifies.
    /// </summary>
    private static async Task<ChainAudit> CheckTrustedAsync(LedgerDownload download, ChainReader reader, ChainAudit audit, (SignedNote Note, Checkpoint Checkpoint)? trust, CancellationToken cancellationToken)
    {
        if (trust is not { } t || !audit.IsValid)
        {
            return audit;
        }

        var checkpoints = new ChainCheckpoints(reader);
        var head = await reader.FindHeadAsync(audit.ChainId, cancellationToken);
        if (audit.ChainId == GovernanceChain)
        {
            var at = await checkpoints.FindBlockBySizeAsync(audit.ChainId, t.Checkpoint.Size, head, cancellationToken);
            return at?.Checkpoint is { } held && SignedNote.Parse(held).Text == t.Note.Text
                ? audit
                : audit with { Fault = new ChainFault(audit.ChainId, at?.Header.Height ?? head?.Height ?? 0, $"the verified chain does not hold the trusted checkpoint of size {t.Checkpoint.Size}: the history was rewritten") };
        }

        var last = head is null ? null : await reader.GetBlockAsync(audit.ChainId, head.Height, cancellationToken);
        if (last?.Checkpoint is not { } note || last.TotalEntries is not { } size || size == t.Checkpoint.Size)
        {
            return audit;
        }

        var newRoot = Checkpoint.Parse(SignedNote.Parse(note).Text).RootHash;
        var proof = await download.ConsistencyAsync(audit.ChainId, t.Checkpoint.Size, size, cancellationToken);
        return MerkleTree.TryVerifyConsistency(t.Checkpoint.Size, size, proof, t.Checkpoint.RootHash, newRoot)
            ? audit
            : audit with { Fault = new ChainFault(audit.ChainId, last.Header.Height, $"the server's consistency proof from size {t.Checkpoint.Size} to {size} does not verify") };
    }

    /// <summary>The signed checkpoint notes of a file: each note's text, a blank line, its signature lines; notes separated by blank lines.</summary>
    private static List<SignedNote> ReadNotes(FileInfo file)
    {
        var notes = new List<SignedNote>();
        var lines = File.ReadAllText(file.FullName).Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var current = new StringBuilder();
        var inSignatures = false;
        void Close()
        {
            if (current.Length > 0)
            {
                try
                {
                    notes.Add(SignedNote.Parse(current.ToString()));
                }
                catch (FormatException ex)
                {
                    throw new CliUsageException($"{file}: a checkpoint note is malformed: {ex.Message}");
                }
            }

            current.Clear();
            inSignatures = false;
        }

        foreach (var line in lines)
        {
            if (inSignatures && !line.StartsWith(SignedNote.Dash))
            {
                Close();
            }

            if (line.Length == 0 && current.Length == 0)
            {
                continue;
            }

            if (line.Length == 0 && !inSignatures)
            {
                inSignatures = true;
            }

            current.Append(line).Append('\n');
        }

        Close();
        return notes.Count > 0 ? notes : throw new CliUsageException($"{file} holds no checkpoint note.");
    }

    /// <summary>The checkpoint note of each chain's last block in a copy.</summary>
    private static async Task<List<string>> LatestNotesAsync(ChainReader reader, IEnumerable<string> chainIds, CancellationToken cancellationToken)
    {
        var notes = new List<string>();
        foreach (var chainId in chainIds)
        {
            if (await reader.FindHeadAsync(chainId, cancellationToken) is { } head
                && await reader.GetBlockAsync(chainId, head.Height, cancellationToken) is { Checkpoint: { } note })
            {
                notes.Add(note);
            }
        }

        return notes;
    }

    /// <summary>Verifies an embedded data folder, or a folder <c>btmc export</c> wrote (leaf material only for its supply chains), without a server.</summary>
    private static async Task<(LedgerAudit Audit, bool LeafOnly)> AuditFolderAsync(DirectoryInfo folder, CancellationToken cancellationToken)
    {
        var database = Path.Combine(folder.FullName, "tables.db");
        if (!File.Exists(database))
        {
            throw new CliUsageException($"{folder} holds no embedded ledger (no tables.db).");
        }

        var manifest = ReadManifest(folder);
        using var service = new SqliteTableServiceClient(database);
        var auditor = new LedgerAuditor(new ChainReader(new ChainTables(service)));
        if (manifest is not null)
        {
            return (await auditor.AuditAsync(manifest.LeafOnlyChains, LeafOnly, cancellationToken), manifest.LeafOnlyChains.Count > 0);
        }

        var options = new SupplyOptions();
        return (await auditor.AuditAsync(Enumerable.Range(0, options.Partitions).Select(options.ChainId), SupplyAuditor.CheckEntry, cancellationToken), false);
    }

    private static ExportManifest? ReadManifest(DirectoryInfo folder)
    {
        var path = Path.Combine(folder.FullName, ExportManifest.FileName);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<ExportManifest>(File.ReadAllText(path), JsonSerializerOptions.Web) : null;
        }
        catch (JsonException ex)
        {
            throw new CliUsageException($"{path} is not an export manifest: {ex.Message}");
        }
    }

    private static Command Export()
    {
        var url = CliOptions.Url();
        var chain = new Option<string[]>("--chain")
        {
            HelpName = "id",
            Description = "A chain to export (repeatable); every chain when omitted. The governance chain is always exported: it gives the producer schedule.",
            AllowMultipleArgumentsPerToken = false,
        };
        var output = new Option<DirectoryInfo>("--out")
        {
            HelpName = "folder",
            Required = true,
            Description = "The folder to write: empty or new, or a previous export of the same ledger, which is extended with the blocks since.",
        };
        var command = new Command("export",
            "Write a backend's chains (blocks, leaf material, records of chains of records, checkpoints) to a folder that verify-chain --data checks offline.")
        {
            url, chain, output,
        };
        ApiKeyOptions.AddOptional(command);
        command.SetAction(async (parseResult, stdout, error, cancellationToken) =>
        {
            var folder = parseResult.GetRequiredValue(output);
            var baseUrl = parseResult.GetRequiredValue(url);
            folder.Create();
            var previous = ReadManifest(folder);
            if (previous is null && folder.EnumerateFileSystemInfos().Any())
            {
                throw new CliUsageException($"{folder} is not empty and holds no previous export: choose an empty or new folder.");
            }

            using var http = BtmcCli.CreateClient(baseUrl, parseResult);
            using var service = new SqliteTableServiceClient(Path.Combine(folder.FullName, "tables.db"));
            var tables = new ChainTables(service);
            await tables.CreateIfNotExistsAsync(cancellationToken);
            var download = new LedgerDownload(http, tables, new ProgressBar(error, 0));
            var remote = await download.ListChainsAsync(cancellationToken);
            var deployment = remote.Count == 0 ? string.Empty : DeploymentOf(await download.CheckpointAsync(remote[0].ChainId, remote[0].Size, cancellationToken));
            if (previous is not null && previous.Deployment != deployment)
            {
                throw new CliUsageException($"{folder} holds an export of another ledger ({previous.Deployment}, this one is {deployment}).");
            }

            var wanted = parseResult.GetValue(chain) is { Length: > 0 } named ? named.Append(GovernanceChain).ToHashSet(StringComparer.Ordinal) : null;
            var chains = remote.Where(c => wanted?.Contains(c.ChainId) ?? true).ToList();
            if (wanted?.Except(chains.Select(c => c.ChainId)).FirstOrDefault() is { } unknown)
            {
                throw new CliUsageException($"The backend has no chain '{unknown}'.");
            }

            // Chain ids name files here (checkpoints/<chain>.note): the server's answer must not steer a path.
            if (chains.FirstOrDefault(c => c.ChainId.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || c.ChainId.StartsWith('.')) is { } odd)
            {
                throw new CliUsageException($"The backend names a chain '{odd.ChainId}', which cannot be a file name.");
            }

            var reader = new ChainReader(tables);
            var heads = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var c in chains)
            {
                heads[c.ChainId] = (await reader.FindHeadAsync(c.ChainId, cancellationToken))?.Height ?? -1;
            }

            download.Expect(chains.Sum(c => Math.Max(0, c.Height - heads[c.ChainId])));
            foreach (var c in chains)
            {
                await download.DownloadAsync(c.ChainId, heads[c.ChainId] + 1, cancellationToken);
            }

            download.Finish();
            var exported = chains.Select(c => c.ChainId).Union(previous?.Chains ?? []).Order(StringComparer.Ordinal).ToList();
            var leafOnly = chains.Select(c => c.ChainId).Where(c => c != GovernanceChain && !download.RecordChains.Contains(c))
                .Union((previous?.LeafOnlyChains ?? []).Where(c => !chains.Any(d => d.ChainId == c))).Order(StringComparer.Ordinal).ToList();
            var manifest = new ExportManifest(baseUrl.AbsoluteUri, deployment, DateTimeOffset.UtcNow, exported, leafOnly,
                "Leaf material only for the leafOnlyChains: supply event bodies are not exported. btmc verify-chain --data checks every hash, root, signature, the producer schedule and every checkpoint of this folder.");
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, ExportManifest.FileName), JsonSerializer.Serialize(manifest, new JsonSerializerOptions(JsonSerializerOptions.Web) { WriteIndented = true }), cancellationToken);

            var notes = Directory.CreateDirectory(Path.Combine(folder.FullName, "checkpoints"));
            foreach (var chainId in exported)
            {
                if (await LatestNotesAsync(reader, [chainId], cancellationToken) is [var note])
                {
                    await File.WriteAllTextAsync(Path.Combine(notes.FullName, chainId + ".note"), note, cancellationToken);
                }
            }

            stdout.WriteLine($"{exported.Count} chains, {download.Blocks.Values.Sum()} new blocks exported to {folder}{(previous is null ? string.Empty : " (extending the previous export)")}");
            return 0;
        });
        return command;
    }

    /// <summary>The deployment part of a checkpoint's origin (<c>btmc/&lt;governance genesis prefix&gt;</c>): what tells one ledger from another.</summary>
    private static string DeploymentOf(RemoteCheckpoint checkpoint)
    {
        var origin = Checkpoint.Parse(SignedNote.Parse(checkpoint.Checkpoint).Text).Origin;
        return origin[..origin.LastIndexOf('/')];
    }
}
