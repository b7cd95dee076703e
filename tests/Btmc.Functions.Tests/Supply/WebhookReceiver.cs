using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Btmc.Functions.Supply;
using Btmc.Supply.Subscriptions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Btmc.Functions.Tests.Supply;

/// <summary>One webhook call as the receiver got it: headers, body, and the status it answered.</summary>
internal sealed record WebhookCall(string? Delivery, string? Subscription, string? Signature, byte[] Body, int Status)
{
    public JsonElement Document => JsonDocument.Parse(Body).RootElement.Clone();

    public IReadOnlyList<JsonElement> Events =>
        Document.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList").EnumerateArray().ToList();
}

/// <summary>
/// A subscriber's webhook: a real HTTP server on a loopback port that records every call and answers with
/// <see cref="Answer"/> (a status, or a task that never completes: a receiver that hangs).
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<WebhookCall> _calls = new();
    private readonly TaskCompletionSource _never = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    /// <summary>What the next call is answered: a status code, or null to hang until the caller gives up.</summary>
    public Func<int, int?> Answer { get; set; } = _ => 200;

    public string Url => _app.Urls.Single().TrimEnd('/') + "/hook";

    public IReadOnlyList<WebhookCall> Calls => _calls.ToList();

    /// <summary>The calls it acknowledged (2xx).</summary>
    public IReadOnlyList<WebhookCall> Acknowledged => _calls.Where(c => c.Status is >= 200 and < 300).ToList();

    public static async Task<WebhookReceiver> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        var count = 0;
        app.MapPost("/hook", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var answer = receiver.Answer(Interlocked.Increment(ref count));
            receiver._calls.Enqueue(new WebhookCall(context.Request.Headers[SubscriptionDispatcher.DeliveryHeader].FirstOrDefault(),
                context.Request.Headers[SubscriptionDispatcher.SubscriptionHeader].FirstOrDefault(),
                context.Request.Headers[WebhookSignature.Header].FirstOrDefault(), body.ToArray(), answer ?? 0));
            if (answer is null)
            {
                await receiver._never.Task.WaitAsync(context.RequestAborted);
            }

            return Results.StatusCode(answer ?? 500);
        });
        await app.StartAsync();
        return receiver;
    }

    /// <summary>Waits (bounded) until the acknowledged calls hold events that satisfy <paramref name="done"/>.</summary>
    public async Task<IReadOnlyList<JsonElement>> WaitForEventsAsync(Func<IReadOnlyList<JsonElement>, bool> done, TimeSpan? timeout = null)
    {
        var watch = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (true)
        {
            var events = Acknowledged.SelectMany(c => c.Events).ToList();
            if (done(events))
            {
                return events;
            }

            Assert.True(watch.Elapsed < (timeout ?? TimeSpan.FromSeconds(30)),
                $"The webhook did not get the expected events in time; it got {Calls.Count} calls, {events.Count} events acknowledged.");
            await timer.WaitForNextTickAsync();
        }
    }

    /// <summary>Waits (bounded) until a call satisfies <paramref name="done"/>.</summary>
    public async Task<WebhookCall> WaitForCallAsync(Func<WebhookCall, bool> done, TimeSpan? timeout = null)
    {
        var watch = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (true)
        {
            if (Calls.FirstOrDefault(done) is { } call)
            {
                return call;
            }

            Assert.True(watch.Elapsed < (timeout ?? TimeSpan.FromSeconds(30)), $"No webhook call as expected in time; it got {Calls.Count} calls.");
            await timer.WaitForNextTickAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _never.TrySetCanceled();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
