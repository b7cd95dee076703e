using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Btmc.Ledger;
using Btmc.Platform.Tables;
using Btmc.Supply.Query;
using Btmc.Supply.Storage;

namespace Btmc.Supply.Subscriptions;

/// <summary>A subscription request's members (the REST binding's <c>QueryScheduleSubscription</c> or <c>QueryStreamSubscription</c>).</summary>
public sealed record SubscriptionRequest(string? Dest, string? SignatureToken, bool? Stream, IReadOnlyDictionary<string, string>? Schedule, bool ReportIfEmpty, DateTimeOffset? InitialRecordTime);

/// <summary>
/// Query subscriptions, stored in the <c>subscriptions</c> table (PK partner, RK subscription id) so that every instance
/// delivers them and they survive restarts. A subscription belongs to its partner: another partner neither sees nor
/// deletes it. Subscribing again with the same query, dest and controls is idempotent (the id is derived from them).
/// Deleting the named query deletes its subscriptions.
/// </summary>
public sealed class SubscriptionStore(SupplyTables tables, NamedQueries queries, TimeProvider time)
{
    /// <summary>The most subscriptions one partner keeps.</summary>
    public const int MaxPerPartner = 100;

    /// <summary>The longest signatureToken accepted (it is an HMAC key; longer adds nothing).</summary>
    public const int MaxTokenLength = 256;

    /// <summary>
    /// Subscribes <paramref name="caller"/> to its query <paramref name="queryName"/>. <paramref name="start"/> is the
    /// cursor of "now" (the chains' next heights), used when no initialRecordTime is given; with one, delivery starts
    /// from the first block and reports events recorded from that time.
    /// </summary>
    /// <exception cref="Refused">404 for an unknown query, 409 when the id is taken with another token or the partner has too many.</exception>
    /// <exception cref="SubscriptionControlsException">Controls that are invalid, naming the member.</exception>
    public async Task<(Subscription Subscription, bool Created)> CreateAsync(Caller caller, string queryName, SubscriptionRequest request, Destinations destinations,
        Func<CancellationToken, Task<SubscriptionCursor>> start, CancellationToken cancellationToken = default)
    {
        if (await queries.GetAsync(caller, queryName, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new Refused(RefusalKind.NotFound, "queryName", $"You have no named query '{queryName}'.", "Not found");
        }

        var dest = destinations.Check(request.Dest);
        if (request.SignatureToken is { } token && (token.Length == 0 || token.Length > MaxTokenLength))
        {
            throw new SubscriptionControlsException("signatureToken", $"signatureToken is 1 to {MaxTokenLength} characters.");
        }

        var (stream, schedule) = (request.Stream, request.Schedule) switch
        {
            (true, null) => (true, (QuerySchedule?)null),
            (null or false, { } fields) => (false, QuerySchedule.Parse(fields)),
            (true, not null) => throw new SubscriptionControlsException("stream", "Give either stream=true or a schedule, not both."),
            (false, null) => throw new SubscriptionControlsException("stream", "stream is true when given; give stream=true or a schedule."),
            _ => throw new SubscriptionControlsException("schedule", "Give stream=true to be sent events as they are sealed, or a schedule; one of them is required."),
        };
        if (stream && request.ReportIfEmpty)
        {
            throw new SubscriptionControlsException("reportIfEmpty", "reportIfEmpty applies to scheduled subscriptions; a stream reports events as they come.");
        }

        var id = IdOf(caller.PartnerId, queryName, dest, schedule, request.ReportIfEmpty, request.InitialRecordTime);
        var now = time.GetUtcNow();
        var subscription = new Subscription
        {
            Id = id,
            Partner = caller.PartnerId,
            QueryName = queryName,
            Dest = dest,
            SignatureToken = request.SignatureToken,
            Stream = stream,
            Schedule = schedule,
            ReportIfEmpty = request.ReportIfEmpty,
            InitialRecordTime = request.InitialRecordTime ?? now,
            CreatedAt = now,
            Cursor = request.InitialRecordTime is null ? await start(cancellationToken).ConfigureAwait(false) : SubscriptionCursor.Start(tables.Partitions),
            NextRunAt = schedule?.Next(now),
        };

        if (await GetAsync(caller, queryName, id, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return SameToken(existing, request.SignatureToken) ? (existing, false) : throw TokenConflict(id);
        }

        if ((await ListAsync(caller, null, cancellationToken).ConfigureAwait(false)).Count >= MaxPerPartner)
        {
            throw Refused.Conflict("queryName", $"Partner {caller.PartnerId} has {MaxPerPartner} subscriptions already: delete one first.");
        }

        try
        {
            await tables.Subscriptions.AddEntityAsync(ToEntity(subscription), cancellationToken).ConfigureAwait(false);
            return (subscription, true);
        }
        catch (TableStoreException ex) when (ex.Status == 409)
        {
            var raced = await GetAsync(caller, queryName, id, cancellationToken).ConfigureAwait(false);
            return raced is not null && SameToken(raced, request.SignatureToken) ? (raced, false) : throw TokenConflict(id);
        }
    }

    /// <summary>The caller's subscription <paramref name="id"/> to <paramref name="queryName"/>; null when it has none.</summary>
    public async Task<Subscription?> GetAsync(Caller caller, string queryName, string id, CancellationToken cancellationToken = default) =>
        await tables.Subscriptions.GetEntityIfExistsAsync(caller.PartnerId, id, cancellationToken).ConfigureAwait(false) is { } row
        && FromEntity(row) is { } subscription && subscription.QueryName == queryName ? subscription : null;

    /// <summary>The caller's subscriptions, to <paramref name="queryName"/> or to any query when null.</summary>
    public async Task<IReadOnlyList<Subscription>> ListAsync(Caller caller, string? queryName, CancellationToken cancellationToken = default)
    {
        var rows = await tables.Subscriptions.QueryListAsync(new TableQuery(caller.PartnerId), cancellationToken).ConfigureAwait(false);
        return rows.Select(FromEntity).Where(s => queryName is null || s.QueryName == queryName).OrderBy(s => s.CreatedAt).ThenBy(s => s.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>Every partner's subscriptions (the dispatcher's view).</summary>
    public async Task<IReadOnlyList<Subscription>> ListAllAsync(CancellationToken cancellationToken = default) =>
        (await tables.Subscriptions.QueryListAsync(new TableQuery(), cancellationToken).ConfigureAwait(false)).Select(FromEntity).ToList();

    /// <summary>Unsubscribes; false when the caller had no such subscription.</summary>
    public async Task<bool> DeleteAsync(Caller caller, string queryName, string id, CancellationToken cancellationToken = default)
    {
        if (await GetAsync(caller, queryName, id, cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        await tables.Subscriptions.DeleteEntityAsync(caller.PartnerId, id, "*", cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Deletes every subscription to the caller's query (the query itself is being deleted).</summary>
    public async Task DeleteForQueryAsync(Caller caller, string queryName, CancellationToken cancellationToken = default)
    {
        foreach (var subscription in await ListAsync(caller, queryName, cancellationToken).ConfigureAwait(false))
        {
            await tables.Subscriptions.DeleteEntityAsync(caller.PartnerId, subscription.Id, "*", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The subscription as stored now; null when it was deleted.</summary>
    public async Task<Subscription?> ReloadAsync(Subscription subscription, CancellationToken cancellationToken = default) =>
        await tables.Subscriptions.GetEntityIfExistsAsync(subscription.Partner, subscription.Id, cancellationToken).ConfigureAwait(false) is { } row ? FromEntity(row) : null;

    /// <summary>Writes <paramref name="subscription"/> if its row is still at <see cref="Subscription.ETag"/>; returns it with the
    /// new ETag, or null when another instance changed it or it was deleted meanwhile.</summary>
    public async Task<Subscription?> TryUpdateAsync(Subscription subscription, CancellationToken cancellationToken = default)
    {
        try
        {
            var etag = await tables.Subscriptions.UpdateEntityAsync(ToEntity(subscription), subscription.ETag ?? "*", TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            return subscription with { ETag = etag };
        }
        catch (TableStoreException ex) when (ex.Status is 404 or 412)
        {
            return null;
        }
    }

    private static bool SameToken(Subscription existing, string? token) =>
        existing.SignatureToken is null ? token is null
        : token is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(existing.SignatureToken), Encoding.UTF8.GetBytes(token));

    private static Refused TokenConflict(string id) =>
        Refused.Conflict("signatureToken", $"Subscription {id} exists with the same query, dest and controls but another signatureToken: delete it first to change the token.");

    /// <summary>The id: SHA-256 of what defines the subscription, so the same request names the same subscription.</summary>
    private static string IdOf(string partner, string queryName, Uri dest, QuerySchedule? schedule, bool reportIfEmpty, DateTimeOffset? initialRecordTime)
    {
        var text = JsonSerializer.Serialize(new object?[]
        {
            partner, queryName, dest.AbsoluteUri, schedule?.Fields, reportIfEmpty, initialRecordTime?.UtcTicks,
        });
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString("D");
    }

    private TableEntity ToEntity(Subscription s)
    {
        var properties = new Dictionary<string, object>
        {
            ["QueryName"] = s.QueryName,
            ["Dest"] = s.Dest.AbsoluteUri,
            ["Stream"] = s.Stream,
            ["ReportIfEmpty"] = s.ReportIfEmpty,
            ["InitialRecordTime"] = s.InitialRecordTime,
            ["CreatedAt"] = s.CreatedAt,
            ["Cursor"] = s.Cursor.ToString(),
            ["FailedAttempts"] = s.FailedAttempts,
        };
        Put(properties, "SignatureToken", s.SignatureToken);
        Put(properties, "Schedule", s.Schedule is { } schedule ? JsonSerializer.Serialize(schedule.Fields) : null);
        Put(properties, "LastNotifiedAt", s.LastNotifiedAt);
        Put(properties, "NextRunAt", s.NextRunAt);
        Put(properties, "RetryAt", s.RetryAt);
        Put(properties, "LastError", s.LastError);
        Put(properties, "LeaseOwner", s.LeaseOwner);
        Put(properties, "LeaseUntil", s.LeaseUntil);
        return new TableEntity(s.Partner, s.Id, properties);

        static void Put(Dictionary<string, object> properties, string name, object? value)
        {
            if (value is not null)
            {
                properties[name] = value;
            }
        }
    }

    private Subscription FromEntity(TableEntity row)
    {
        var p = row.Properties;
        T? Get<T>(string name) where T : struct => p.TryGetValue(name, out var value) && value is T typed ? typed : null;
        string? Text(string name) => p.TryGetValue(name, out var value) ? value as string : null;
        return new Subscription
        {
            Id = row.RowKey,
            Partner = row.PartitionKey,
            QueryName = row.GetString("QueryName"),
            Dest = new Uri(row.GetString("Dest")),
            SignatureToken = Text("SignatureToken"),
            Stream = Get<bool>("Stream") ?? false,
            Schedule = Text("Schedule") is { } schedule ? QuerySchedule.Parse(JsonSerializer.Deserialize<Dictionary<string, string>>(schedule)!) : null,
            ReportIfEmpty = Get<bool>("ReportIfEmpty") ?? false,
            InitialRecordTime = Get<DateTimeOffset>("InitialRecordTime") ?? default,
            CreatedAt = Get<DateTimeOffset>("CreatedAt") ?? default,
            Cursor = SubscriptionCursor.Parse(row.GetString("Cursor"), tables.Partitions),
            LastNotifiedAt = Get<DateTimeOffset>("LastNotifiedAt"),
            NextRunAt = Get<DateTimeOffset>("NextRunAt"),
            FailedAttempts = (int)(p.TryGetValue("FailedAttempts", out var failed) ? Convert.ToInt64(failed, System.Globalization.CultureInfo.InvariantCulture) : 0),
            RetryAt = Get<DateTimeOffset>("RetryAt"),
            LastError = Text("LastError"),
            LeaseOwner = Text("LeaseOwner"),
            LeaseUntil = Get<DateTimeOffset>("LeaseUntil"),
            ETag = row.ETag,
        };
    }
}
