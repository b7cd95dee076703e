using System.Globalization;
using System.Text;

namespace Btmc.Supply.Subscriptions;

/// <summary>
/// A query subscription (EPCIS 2.0 REST binding, <c>POST /queries/{name}/subscriptions</c>; docs/epcis-query.md,
/// "Subscriptions"): the partner's named query, run with the partner's visibility, whose new results go to
/// <see cref="Dest"/> by webhook, either as each block is sealed (<see cref="Stream"/>) or at the times of
/// <see cref="Schedule"/>. <see cref="Cursor"/> is where delivery stands: every matching event before it was acknowledged
/// by the receiver (2xx), none after it was; so an event is sent again only while its batch is unacknowledged.
/// </summary>
public sealed record Subscription
{
    public required string Id { get; init; }

    public required string Partner { get; init; }

    public required string QueryName { get; init; }

    /// <summary>The webhook's URL (checked by <see cref="Destinations"/> when subscribing and at each connection).</summary>
    public required Uri Dest { get; init; }

    /// <summary>The client's secret for the <c>GS1-Signature</c> HMAC (<see cref="WebhookSignature"/>); never shown or logged.</summary>
    public string? SignatureToken { get; init; }

    public bool Stream { get; init; }

    public QuerySchedule? Schedule { get; init; }

    /// <summary>Scheduled runs that find nothing new still call the webhook, with an empty event list.</summary>
    public bool ReportIfEmpty { get; init; }

    /// <summary>Only events recorded at or after this instant are reported (the creation time when not given).</summary>
    public required DateTimeOffset InitialRecordTime { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required SubscriptionCursor Cursor { get; init; }

    /// <summary>When the receiver last acknowledged a delivery.</summary>
    public DateTimeOffset? LastNotifiedAt { get; init; }

    /// <summary>A scheduled subscription's next query time.</summary>
    public DateTimeOffset? NextRunAt { get; init; }

    /// <summary>Deliveries failed in a row since the last acknowledged one.</summary>
    public int FailedAttempts { get; init; }

    /// <summary>After a failure, no delivery is tried before this instant (exponential backoff).</summary>
    public DateTimeOffset? RetryAt { get; init; }

    /// <summary>Why the last delivery failed (the receiver's status or the connection error), for the subscriber.</summary>
    public string? LastError { get; init; }

    /// <summary>The instance delivering it and until when (a lease, so that instances never deliver one subscription twice at once).</summary>
    public string? LeaseOwner { get; init; }

    public DateTimeOffset? LeaseUntil { get; init; }

    /// <summary>The row's ETag when read: updates are conditional on it.</summary>
    public string? ETag { get; init; }

    /// <summary>
    /// The subscription as the REST binding shows it (<c>AbstractQuerySubscriptionResponse</c>): no secret, only whether
    /// one is set; <c>minRecordTime</c> is the initial record time (delivery goes by ledger position, see <see cref="Cursor"/>).
    /// </summary>
    public object View()
    {
        var view = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["subscriptionID"] = Id,
            ["queryName"] = QueryName,
            ["dest"] = Dest.AbsoluteUri,
            ["signed"] = SignatureToken is not null,
            ["initialRecordTime"] = InitialRecordTime,
            ["createdAt"] = CreatedAt,
            ["lastNotifiedAt"] = LastNotifiedAt,
            ["failedAttempts"] = FailedAttempts,
            ["retryAt"] = RetryAt,
            ["lastError"] = LastError,
        };
        if (Schedule is { } schedule)
        {
            view["schedule"] = schedule.Fields;
            view["reportIfEmpty"] = ReportIfEmpty;
            view["nextRunAt"] = NextRunAt;
        }
        else
        {
            view["stream"] = true;
        }

        return view;
    }
}

/// <summary>
/// Where a subscription's delivery stands on each supply chain: the next block height and leaf to look at. Chains are
/// read in ledger order, so "before the cursor" is exact, unlike a record time, which is taken at capture, before
/// sealing, and can be passed by events that are sealed later.
/// </summary>
public sealed record SubscriptionCursor(IReadOnlyList<(long Height, long Leaf)> Chains)
{
    public static SubscriptionCursor Start(int chains) => new(Enumerable.Repeat((0L, 0L), chains).ToList());

    /// <summary><c>height.leaf</c> per chain, comma-separated.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var (height, leaf) in Chains)
        {
            text.Append(text.Length == 0 ? string.Empty : ",").Append(CultureInfo.InvariantCulture, $"{height}.{leaf}");
        }

        return text.ToString();
    }

    public static SubscriptionCursor Parse(string text, int chains)
    {
        var parts = text.Split(',');
        if (parts.Length != chains)
        {
            throw new FormatException($"A cursor names {parts.Length} chains; the ledger has {chains}.");
        }

        return new(parts.Select(p => p.Split('.') is [var h, var l]
            ? (long.Parse(h, NumberStyles.None, CultureInfo.InvariantCulture), long.Parse(l, NumberStyles.None, CultureInfo.InvariantCulture))
            : throw new FormatException($"'{p}' is not a cursor position.")).ToList());
    }

    public bool Equals(SubscriptionCursor? other) => other is not null && Chains.SequenceEqual(other.Chains);

    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
}
