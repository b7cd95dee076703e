using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Btmc.Epcis.Query;
using Btmc.Ledger;
using Btmc.Supply.Query;
using Btmc.Supply.Subscriptions;

namespace Btmc.Functions.Supply;

/// <summary>Settings of subscription delivery (configuration section <c>Subscriptions</c>; docs/epcis-query.md).</summary>
public sealed class SubscriptionOptions
{
    /// <summary>Webhooks may be plain http and on private or loopback addresses (development, one machine); see <see cref="Destinations"/>.</summary>
    public bool AllowLocalDestinations { get; set; }

    /// <summary>Events per webhook call at most (a receiver answering 413 gets half as many, down to one).</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>How long one webhook call may take, connection included, before it counts as failed.</summary>
    public int DeliveryTimeoutSeconds { get; set; } = 10;

    /// <summary>Webhook calls in flight at once, over all subscriptions.</summary>
    public int MaxConcurrentDeliveries { get; set; } = 16;

    /// <summary>How often new blocks and due schedules are looked for.</summary>
    public int PollMilliseconds { get; set; } = 250;

    /// <summary>The first retry's delay; each further failure doubles it, up to <see cref="MaxRetryDelaySeconds"/>.</summary>
    public int RetryBaseMilliseconds { get; set; } = 1000;

    public int MaxRetryDelaySeconds { get; set; } = 300;

    public void Validate()
    {
        if (BatchSize is < 1 or > 1000 || DeliveryTimeoutSeconds is < 1 or > 300 || MaxConcurrentDeliveries is < 1 or > 1024
            || PollMilliseconds is < 10 or > 60_000 || RetryBaseMilliseconds is < 10 or > 600_000 || MaxRetryDelaySeconds < 1
            || MaxRetryDelaySeconds * 1000L < RetryBaseMilliseconds)
        {
            throw new ArgumentException("Subscriptions: BatchSize 1-1000, DeliveryTimeoutSeconds 1-300, MaxConcurrentDeliveries 1-1024, PollMilliseconds 10-60000, RetryBaseMilliseconds 10-600000, MaxRetryDelaySeconds ≥ the base.");
        }
    }
}

/// <summary>
/// Delivers every stored subscription's new results by webhook (docs/epcis-query.md, "Subscriptions"). It runs beside
/// capture and sealing and only reads what they committed, so a receiver that is slow or gone costs its own
/// subscription's delivery and nothing else: calls have a timeout, are limited in number, and a failing receiver is
/// retried with exponential backoff whose state is stored (it survives restarts). Delivery is at least once and in
/// ledger order: the cursor moves only when the receiver acknowledges a batch (2xx), and a batch sent again carries the
/// same <c>BTMC-Delivery</c> id and the same events, so a receiver deduplicates by that id or by event ID.
/// Several instances share the work through a lease on each subscription's row (conditional on its ETag).
/// </summary>
public sealed class SubscriptionDispatcher : IDisposable
{
    public const string DeliveryHeader = "BTMC-Delivery";
    public const string SubscriptionHeader = "BTMC-Subscription";

    private static readonly TimeSpan ListInterval = TimeSpan.FromSeconds(2);
    /// <summary>How long a delivery's claim on a subscription lasts unless renewed (each acknowledged batch renews it):
    /// longer than a call's timeout; what another instance waits after this one crashed mid-delivery.</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private readonly SubscriptionStore _store;
    private readonly NamedQueries _queries;
    private readonly Func<string, Caller?> _callers;
    private readonly Func<EpcisQuery, Caller, CancellationToken, Task<EpcisQuery>> _resolve;
    private readonly SubscriptionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly ConcurrentDictionary<string, Subscription> _known = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _batchSizes = new(StringComparer.Ordinal);
    private DateTimeOffset _listedAt = DateTimeOffset.MinValue;
    private int _streams;

    public SubscriptionDispatcher(SubscriptionStore store, NamedQueries queries, Func<EpcisQuery, Caller, CancellationToken, Task<EpcisQuery>> resolve, SealedFeed feed,
        Destinations destinations, Func<string, Caller?> callers, SubscriptionOptions options, TimeProvider time, ILogger logger)
    {
        options.Validate();
        (_store, _queries, _resolve, Feed, Destinations, _callers, _options, _time, _logger) = (store, queries, resolve, feed, destinations, callers, options, time, logger);
        // Redirects are not followed: the URL the subscriber gave, and checked, is the only one called.
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectCallback = (context, cancellationToken) => destinations.ConnectAsync(context.DnsEndPoint, cancellationToken),
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            UseCookies = false,
        })
        {
            Timeout = TimeSpan.FromSeconds(options.DeliveryTimeoutSeconds),
        };
    }

    public SealedFeed Feed { get; }

    public Destinations Destinations { get; }

    public SubscriptionOptions Options => _options;

    /// <summary>Runs delivery passes until <paramref name="stoppingToken"/> is cancelled; a failed pass is logged and the next one runs.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_options.PollMilliseconds), _time);
        do
        {
            try
            {
                await PassAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                _logger.LogWarning(ex, "A subscription delivery pass failed; the next one runs in {Milliseconds} ms", _options.PollMilliseconds);
            }
        }
        while (await NextTickAsync(timer, stoppingToken).ConfigureAwait(false));

        await Task.WhenAll(_inFlight.Values).ConfigureAwait(false);
    }

    /// <summary>A stream over WebSocket is open: new blocks are looked for even when no subscription is stored.</summary>
    public IDisposable OpenStream()
    {
        Interlocked.Increment(ref _streams);
        return new StreamLease(this);
    }

    /// <summary>A subscription was created or deleted here: list them again at the next pass.</summary>
    public void Refresh() => _listedAt = DateTimeOffset.MinValue;

    /// <summary>One pass: list the subscriptions (every few seconds), look for new blocks, start the deliveries that are due.</summary>
    public async Task PassAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (now - _listedAt >= ListInterval)
        {
            var all = await _store.ListAllAsync(cancellationToken).ConfigureAwait(false);
            _known.Clear();
            foreach (var subscription in all)
            {
                _known[Key(subscription)] = subscription;
            }

            _listedAt = now;
        }

        if (_known.IsEmpty && Volatile.Read(ref _streams) == 0)
        {
            return;
        }

        await Feed.PollAsync(cancellationToken).ConfigureAwait(false);
        now = _time.GetUtcNow();
        foreach (var (key, subscription) in _known)
        {
            if (_inFlight.Count >= _options.MaxConcurrentDeliveries)
            {
                break;
            }

            var due = subscription.Stream ? Feed.HasNew(subscription.Cursor) : subscription.NextRunAt <= now;
            if (!due || subscription.RetryAt > now || _inFlight.ContainsKey(key)
                || (subscription.LeaseOwner != _instance && subscription.LeaseUntil > now))
            {
                continue;
            }

            _inFlight[key] = Task.Run(async () =>
            {
                try
                {
                    await DeliverAsync(subscription, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    _logger.LogWarning(ex, "Delivering subscription {Subscription} of partner {Partner} failed", subscription.Id, subscription.Partner);
                }
                catch (OperationCanceledException)
                {
                    // The server is stopping: the subscription's lease runs out and another pass, here or elsewhere, goes on.
                }
                finally
                {
                    _inFlight.TryRemove(key, out _);
                }
            }, CancellationToken.None);
        }
    }

    private async Task DeliverAsync(Subscription subscription, CancellationToken cancellationToken)
    {
        var key = Key(subscription);
        if (await _store.ReloadAsync(subscription, cancellationToken).ConfigureAwait(false) is not { } s)
        {
            _known.TryRemove(key, out _);
            return;
        }

        var now = _time.GetUtcNow();
        if (s.LeaseOwner != _instance && s.LeaseUntil > now)
        {
            return;
        }

        // The partner's rights as they are now: a suspended or removed partner is sent nothing.
        if (_callers(s.Partner) is not { } caller)
        {
            await FailAsync(s, "The subscribing partner is suspended or no longer registered.", now, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (await _queries.GetAsync(caller, s.QueryName, cancellationToken).ConfigureAwait(false) is not { } named)
        {
            // The query was deleted (which unsubscribes) by a request that raced this delivery.
            await _store.DeleteAsync(caller, s.QueryName, s.Id, cancellationToken).ConfigureAwait(false);
            _known.TryRemove(key, out _);
            return;
        }

        var parsed = EpcisQuery.Parse(named.Parameters.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)));
        if (parsed.Query is not { } query)
        {
            await FailAsync(s, $"The named query no longer parses: {parsed.Problems[0].Pointer}: {parsed.Problems[0].Detail}", now, cancellationToken).ConfigureAwait(false);
            return;
        }

        // Master data (WD_, EQ_ATTR_, HASATTR_) as the partner may use it now, once per delivery.
        query = await _resolve(query, caller, cancellationToken).ConfigureAwait(false);

        if (await _store.TryUpdateAsync(s with { LeaseOwner = _instance, LeaseUntil = now + Lease }, cancellationToken).ConfigureAwait(false) is not { } leased)
        {
            return;
        }

        try
        {
            await DeliverLeasedAsync(leased, key, query, caller, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: give the lease back (the cursor stays where the last acknowledgement left it), so that the
            // next instance, or this one restarted, goes on at once instead of waiting for the lease to run out.
            if (await _store.ReloadAsync(leased, CancellationToken.None).ConfigureAwait(false) is { LeaseOwner: var owner } current && owner == _instance)
            {
                await _store.TryUpdateAsync(current with { LeaseOwner = null, LeaseUntil = null }, CancellationToken.None).ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>Sends batches until the subscription is caught up or a call fails, holding its lease.</summary>
    private async Task DeliverLeasedAsync(Subscription s, string key, EpcisQuery query, Caller caller, CancellationToken cancellationToken)
    {
        DateTimeOffset now;
        var sent = false;
        while (true)
        {
            var size = _batchSizes.GetValueOrDefault(key, _options.BatchSize);
            var batch = await Feed.CollectAsync(s.Cursor, query, caller, s.InitialRecordTime, size, cancellationToken).ConfigureAwait(false);
            if (batch.Events.Count == 0 && (s.Stream || sent || !s.ReportIfEmpty))
            {
                s = s with { Cursor = batch.Next };
                break;
            }

            var (ok, status, error) = await SendAsync(s, batch, cancellationToken).ConfigureAwait(false);
            now = _time.GetUtcNow();
            if (ok)
            {
                sent = true;
                var moved = await _store.TryUpdateAsync(s with
                {
                    Cursor = batch.Next, LastNotifiedAt = now, FailedAttempts = 0, RetryAt = null, LastError = null, LeaseUntil = now + Lease,
                }, cancellationToken).ConfigureAwait(false);
                if (moved is null)
                {
                    return;
                }

                _known[key] = s = moved;
                if (batch.CaughtUp)
                {
                    break;
                }

                continue;
            }

            if (status == HttpStatusCode.RequestEntityTooLarge && size > 1)
            {
                _batchSizes[key] = size / 2;
                continue;
            }

            await FailAsync(s, error, now, cancellationToken).ConfigureAwait(false);
            return;
        }

        now = _time.GetUtcNow();
        if (await _store.TryUpdateAsync(s with { LeaseOwner = null, LeaseUntil = null, NextRunAt = s.Schedule?.Next(now) }, cancellationToken).ConfigureAwait(false) is { } done)
        {
            _known[key] = done;
        }
    }

    private async Task FailAsync(Subscription s, string error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var failures = s.FailedAttempts + 1;
        var delay = Math.Min(_options.RetryBaseMilliseconds * Math.Pow(2, Math.Min(failures - 1, 30)), _options.MaxRetryDelaySeconds * 1000.0);
        // Jitter (±20 %) keeps many subscriptions to one failed receiver from retrying in step.
        delay *= 0.8 + (0.4 * Random.Shared.NextDouble());
        _logger.LogInformation("Subscription {Subscription} of partner {Partner}: delivery failed ({Error}); attempt {Attempt}, next in {Delay:0} ms",
            s.Id, s.Partner, error, failures, delay);
        if (await _store.TryUpdateAsync(s with
            {
                FailedAttempts = failures, RetryAt = now + TimeSpan.FromMilliseconds(delay), LastError = error, LeaseOwner = null, LeaseUntil = null,
            }, cancellationToken).ConfigureAwait(false) is { } updated)
        {
            _known[Key(updated)] = updated;
        }
    }

    /// <summary>One webhook call: the batch as an EPCISQueryDocument, signed when the subscription has a token.</summary>
    private async Task<(bool Ok, HttpStatusCode? Status, string Error)> SendAsync(Subscription s, FeedBatch batch, CancellationToken cancellationToken)
    {
        var body = EpcisQueryDocumentWriter.ToUtf8(batch.Events, _time.GetUtcNow(), s.QueryName, s.Id);

        using var request = new HttpRequestMessage(HttpMethod.Post, s.Dest) { Content = new ReadOnlyMemoryContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(SubscriptionHeader, s.Id);
        request.Headers.Add(DeliveryHeader, DeliveryId(s.Id, s.Cursor, batch.Next));
        if (s.SignatureToken is { } token)
        {
            request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(token, _time.GetUtcNow().ToUnixTimeSeconds(), body.Span));
        }

        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode
                ? (true, response.StatusCode, string.Empty)
                : (false, response.StatusCode, $"the receiver answered {(int)response.StatusCode}");
        }
        catch (HttpRequestException ex)
        {
            return (false, null, "the receiver could not be reached: " + ex.Message);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, null, $"the receiver did not answer within {_options.DeliveryTimeoutSeconds} s");
        }
    }

    /// <summary>The same batch (same subscription, same cursor before and after) always has the same id.</summary>
    public static string DeliveryId(string subscriptionId, SubscriptionCursor from, SubscriptionCursor to) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{subscriptionId}|{from}|{to}")).AsSpan(0, 16));

    private static string Key(Subscription s) => s.Partner + "/" + s.Id;

    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        Feed.Dispose();
    }

    private sealed class StreamLease(SubscriptionDispatcher dispatcher) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref dispatcher._streams);
            }
        }
    }
}
