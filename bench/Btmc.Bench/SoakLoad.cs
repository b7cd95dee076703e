using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Btmc.Bench;

/// <summary>An event the server acknowledged (202): the capture, when (seconds into the soak) and who sent it.</summary>
internal sealed record Acknowledgement(string CaptureId, double At, string Source);

/// <summary>One capture request's answer: 0 for a connection error or a timeout (nothing acknowledged).</summary>
internal sealed record CaptureAnswer(int Status, string CaptureId, IReadOnlyList<string> EventIds, TimeSpan? RetryAfter, string Detail);

/// <summary>The end of sending one document until it was acknowledged.</summary>
internal sealed record SendResult(bool Acknowledged, int Attempts, TimeSpan Elapsed, string Last);

/// <summary>
/// The soak's capture clients. A document is sent until a 202 acknowledges it: after a 503 the same bytes are sent
/// again after Retry-After, after a connection error or a timeout (the server killed, restarting) after a short pause,
/// after any other answer (unexpected for a valid document: counted, and the soak fails) after a second. Every 202's
/// event ids are recorded as acknowledged, with the capture id and the time.
/// </summary>
internal sealed class SoakLoad(Uri baseAddress, Stopwatch clock, int connections)
{
    private readonly ConcurrentQueue<string> _unexpectedExamples = new();
    private readonly Lock _pace = new();
    private double _nextDocumentAt;
    private long _documents;
    private long _throttled;
    private long _connectionErrors;
    private long _unexpected;

    public ConcurrentDictionary<string, Acknowledgement> Acknowledged { get; } = new(StringComparer.Ordinal);

    /// <summary>The client the load and the faults send with; its API key is set once the server is ready.</summary>
    public HttpClient Http { get; } = new(new SocketsHttpHandler { MaxConnectionsPerServer = connections, ConnectTimeout = TimeSpan.FromSeconds(5) })
    {
        BaseAddress = baseAddress,
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public long Documents => Interlocked.Read(ref _documents);

    public long Throttled => Interlocked.Read(ref _throttled);

    public long ConnectionErrors => Interlocked.Read(ref _connectionErrors);

    public long Unexpected => Interlocked.Read(ref _unexpected);

    public IReadOnlyCollection<string> UnexpectedExamples => _unexpectedExamples;

    public double Now => clock.Elapsed.TotalSeconds;

    public void Authenticate(string apiKey)
    {
        Http.DefaultRequestHeaders.Remove("X-API-Key");
        Http.DefaultRequestHeaders.Add("X-API-Key", apiKey);
    }

    /// <summary>
    /// Runs <paramref name="clients"/> clients, each sending its own documents one after the other, until
    /// <paramref name="stop"/>; at most <paramref name="eventsPerSecond"/> events a second in all (0: as fast as the
    /// server takes them).
    /// </summary>
    public Task RunAsync(int clients, DocumentTemplate template, double eventsPerSecond, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            var body = new byte[template.Length];
            for (var doc = 0; !stop.IsCancellationRequested; doc++)
            {
                if (!await PaceAsync(template.Events, eventsPerSecond, stop))
                {
                    break;
                }

                template.Fill(body, client, doc);
                await SendUntilAcknowledgedAsync(body, "load", deadline: null, stop);
            }
        })));

    /// <summary>Waits for the next document's turn at the given rate (each document reserves events/rate seconds); false when stopped.</summary>
    private async Task<bool> PaceAsync(int events, double eventsPerSecond, CancellationToken stop)
    {
        if (eventsPerSecond <= 0)
        {
            return true;
        }

        double at;
        lock (_pace)
        {
            at = Math.Max(_nextDocumentAt, Now);
            _nextDocumentAt = at + (events / eventsPerSecond);
        }

        try
        {
            var wait = at - Now;
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(wait), stop);
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Sends <paramref name="body"/> until a 202, <paramref name="stop"/> or the deadline (then not acknowledged).</summary>
    public async Task<SendResult> SendUntilAcknowledgedAsync(byte[] body, string source, TimeSpan? deadline, CancellationToken stop)
    {
        var watch = Stopwatch.StartNew();
        var attempts = 0;
        var last = "not sent";
        while (!stop.IsCancellationRequested && (deadline is null || watch.Elapsed < deadline))
        {
            attempts++;
            var limit = deadline is { } d ? Max(TimeSpan.FromMilliseconds(1), Min(TimeSpan.FromSeconds(30), d - watch.Elapsed)) : TimeSpan.FromSeconds(60);
            var answer = await PostAsync(Http, body, limit, stop);
            last = Describe(answer);
            TimeSpan pause;
            switch (answer.Status)
            {
                case 202:
                    Record(answer, source);
                    return new SendResult(true, attempts, watch.Elapsed, last);
                case 503:
                    Interlocked.Increment(ref _throttled);
                    pause = answer.RetryAfter ?? TimeSpan.FromSeconds(1);
                    break;
                case 0:
                    if (stop.IsCancellationRequested)
                    {
                        return new SendResult(false, attempts, watch.Elapsed, "stopped");
                    }

                    Interlocked.Increment(ref _connectionErrors);
                    pause = TimeSpan.FromMilliseconds(500);
                    break;
                default:
                    Interlocked.Increment(ref _unexpected);
                    if (_unexpectedExamples.Count < 10)
                    {
                        _unexpectedExamples.Enqueue($"t={Now:F1} s {source}: {last}");
                    }

                    pause = TimeSpan.FromSeconds(1);
                    break;
            }

            try
            {
                await Task.Delay(deadline is { } end ? Min(pause, Max(TimeSpan.Zero, end - watch.Elapsed)) : pause, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return new SendResult(false, attempts, watch.Elapsed, last);
    }

    /// <summary>Records a 202's events as acknowledged by <paramref name="source"/>.</summary>
    public void Record(CaptureAnswer answer, string source)
    {
        Interlocked.Increment(ref _documents);
        var at = Now;
        foreach (var id in answer.EventIds)
        {
            Acknowledged.TryAdd(id, new Acknowledgement(answer.CaptureId, at, source));
        }
    }

    /// <summary>One capture request, at most <paramref name="limit"/>; status 0 when the connection failed, timed out or was stopped.</summary>
    public static async Task<CaptureAnswer> PostAsync(HttpClient http, byte[] body, TimeSpan limit, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(limit);
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/ld+json");
            using var response = await http.PostAsync("api/epcis/capture", content, timeout.Token);
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                using var doc = JsonDocument.Parse(text);
                var ids = doc.RootElement.GetProperty("eventIds").EnumerateArray().Select(e => e.GetString() ?? string.Empty).ToList();
                return new CaptureAnswer(202, doc.RootElement.GetProperty("captureId").GetString() ?? string.Empty, ids, null, $"{ids.Count} events");
            }

            return new CaptureAnswer((int)response.StatusCode, string.Empty, [], response.Headers.RetryAfter?.Delta, LedgerClient.ProblemTitle(text));
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return new CaptureAnswer(0, string.Empty, [], null, $"connection error: {e.Message}");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return new CaptureAnswer(1, string.Empty, [], null, $"202 with an unreadable body: {e.Message}");
        }
        catch (OperationCanceledException)
        {
            return new CaptureAnswer(0, string.Empty, [], null, stop.IsCancellationRequested ? "stopped" : $"no answer within {limit.TotalSeconds:F0} s");
        }
    }

    public static string Describe(CaptureAnswer answer) =>
        answer.Status switch
        {
            0 or 1 => answer.Detail,
            202 => $"202 ({answer.Detail}, capture {answer.CaptureId})",
            _ => $"{answer.Status} {answer.Detail}",
        };

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
