using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Btmc.Bench;

/// <summary>The sealer of a chain as <c>GET /api/ledger/chains</c> reports it (servers that report it).</summary>
internal sealed record SealerReport(string? State, string? Since, string? LastError);

/// <summary>One chain of <c>GET /api/ledger/chains</c>; the fields after <see cref="Height"/> are null when the server does not report them.</summary>
internal sealed record ChainReport(string ChainId, long Height, long? Unsealed, double? OldestUnsealedAgeMs, SealerReport? Sealer);

/// <summary>
/// <c>GET /api/ledger/chains</c>: the sealed total, the pending count and the chains. <see cref="TotalEntries"/> is null
/// while the server cannot read the table store (<see cref="StoreError"/> says why; the chains' heights are unknown then).
/// </summary>
internal sealed record ChainsReport(long? TotalEntries, long Pending, IReadOnlyList<ChainReport> Chains, string? StoreError)
{
    /// <summary>Events accepted and not sealed over all chains, when the server reports it.</summary>
    public long? Unsealed => Chains.Any(c => c.Unsealed is not null) ? Chains.Sum(c => c.Unsealed ?? 0) : null;

    /// <summary>The oldest unsealed event's age over all chains, when the server reports it.</summary>
    public double? OldestUnsealedAgeMs => Chains.Max(c => c.OldestUnsealedAgeMs);
}

/// <summary>An entry of a block: its event and, when the server reports it, when the event was accepted.</summary>
internal sealed record BlockEntryReport(long LeafIndex, string EventId, DateTimeOffset? ReceivedAt);

/// <summary><c>GET /api/ledger/chains/{chainId}/blocks/{height}</c>: <see cref="CommittedAt"/> is null when the server does not report it.</summary>
internal sealed record BlockReport(string ChainId, long Height, DateTimeOffset? CommittedAt, IReadOnlyList<BlockEntryReport> Entries);

/// <summary>
/// The ledger as the bench and the soak read it: over HTTP from the server, so that the same code works whichever
/// table store the server uses. Fields the server may not report yet are read when present.
/// </summary>
internal static class LedgerClient
{
    public static async Task<ChainsReport> GetChainsAsync(HttpClient http, CancellationToken cancellationToken = default)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync("api/ledger/chains", cancellationToken));
        var root = doc.RootElement;
        var chains = root.GetProperty("chains").EnumerateArray().Select(c => new ChainReport(
            c.GetProperty("chainId").GetString() ?? string.Empty,
            c.GetProperty("height").GetInt64(),
            Number(c, "unsealed") is { } unsealed ? (long)unsealed : null,
            Number(c, "oldestUnsealedAgeMs"),
            c.TryGetProperty("sealer", out var sealer) && sealer.ValueKind == JsonValueKind.Object
                ? new SealerReport(Text(sealer, "state"), Text(sealer, "since"), Text(sealer, "lastError"))
                : null)).ToList();
        var storeError = root.TryGetProperty("store", out var store) && store.ValueKind == JsonValueKind.Object ? Text(store, "error") : null;
        return new ChainsReport(Number(root, "totalEntries") is { } total ? (long)total : null, root.GetProperty("pending").GetInt64(), chains, storeError);
    }

    /// <summary>
    /// <c>GET /api/ledger/chains</c> once it reports the heads (not while the server cannot read its table store),
    /// asking again every second for at most <paramref name="limit"/> (default 2 min), and not once
    /// <paramref name="broken"/> says why it never will (Azurite gone).
    /// </summary>
    public static async Task<ChainsReport> GetKnownChainsAsync(HttpClient http, TimeSpan? limit = null, Func<string?>? broken = null, CancellationToken cancellationToken = default)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (broken?.Invoke() is { } why)
            {
                throw new InvalidOperationException(why);
            }

            var report = await GetChainsAsync(http, cancellationToken);
            if (report.TotalEntries is not null)
            {
                return report;
            }

            if (watch.Elapsed > (limit ?? TimeSpan.FromMinutes(2)))
            {
                throw new TimeoutException($"/api/ledger/chains has not reported the chains' heads for {watch.Elapsed.TotalSeconds:F0} s: {report.StoreError}");
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    /// <summary>The block, or null when the chain has no block at that height.</summary>
    public static async Task<BlockReport?> GetBlockAsync(HttpClient http, string chainId, long height, CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync(string.Create(CultureInfo.InvariantCulture, $"api/ledger/chains/{Uri.EscapeDataString(chainId)}/blocks/{height}"), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        using var doc = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        var root = doc.RootElement;
        var entries = root.GetProperty("entries").EnumerateArray()
            .Select(e => new BlockEntryReport(e.GetProperty("leafIndex").GetInt64(), e.GetProperty("eventId").GetString() ?? string.Empty, Time(e, "receivedAt")))
            .ToList();
        return new BlockReport(chainId, height, Time(root, "committedAt"), entries);
    }

    /// <summary><c>GET /api/ledger/verify</c>: whether the ledger is valid, and the answer's body.</summary>
    public static async Task<(bool IsValid, string Body)> VerifyAsync(HttpClient http, CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync("api/ledger/verify", cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return (false, $"{(int)response.StatusCode}: {body}");
        }

        using var doc = JsonDocument.Parse(body);
        return (doc.RootElement.TryGetProperty("isValid", out var valid) && valid.ValueKind == JsonValueKind.True, body);
    }

    /// <summary>What <c>GET /api/ledger/receipts/{eventId}</c> answers, in words: "200 (sealed)", or the status and the problem's title.</summary>
    public static async Task<string> DescribeReceiptAsync(HttpClient http, string eventId, CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync($"api/ledger/receipts/{Uri.EscapeDataString(eventId)}", cancellationToken);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            return "200 (sealed)";
        }

        return $"{(int)response.StatusCode} {ProblemTitle(await response.Content.ReadAsStringAsync(cancellationToken))}".TrimEnd();
    }

    /// <summary>The title (and detail) of a problem+json body, or the start of the body.</summary>
    public static string ProblemTitle(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var title = Text(doc.RootElement, "title");
            var detail = Text(doc.RootElement, "detail");
            return detail is null ? title ?? string.Empty : $"{title}: {detail}";
        }
        catch (JsonException)
        {
            return body.Length > 200 ? body[..200] : body;
        }
    }

    private static double? Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    private static string? Text(JsonElement element, string name) =>
        !element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText();

    private static DateTimeOffset? Time(JsonElement element, string name) =>
        Text(element, name) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
}
