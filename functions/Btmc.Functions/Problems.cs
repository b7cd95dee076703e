using Btmc.Epcis;
using Btmc.Ledger;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Btmc.Functions;

/// <summary>RFC 9457 problem details, with the offending members listed under <c>errors</c>.</summary>
public static class Problems
{
    public static IResult Of(int status, string title, string detail, IReadOnlyList<EpcisProblem>? errors = null) =>
        Build(status, title, detail, $"https://btmc.dev/problems/{title.ToLowerInvariant().Replace(' ', '-')}", errors);

    /// <summary>
    /// A refusal the EPCIS 2.0 standard names (QueryParameterException, QueryTooLargeException, ...): the REST
    /// binding's problem type <c>epcisException:&lt;name&gt;</c>, the name as title, the parameters under <c>errors</c>.
    /// </summary>
    public static IResult OfEpcisException(int status, string exception, string detail, IReadOnlyList<EpcisProblem>? errors = null) =>
        Build(status, exception, detail, $"epcisException:{exception}", errors);

    private static IResult Build(int status, string title, string detail, string type, IReadOnlyList<EpcisProblem>? errors)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = type };
        if (errors is { Count: > 0 })
        {
            problem.Extensions["errors"] = errors
                .Select(e => new { eventIndex = e.EventIndex, pointer = e.Pointer, detail = e.Detail })
                .ToList();
        }

        return Results.Problem(problem);
    }

    /// <summary>A problem about one member of the request, named in the <c>field</c> extension.</summary>
    public static IResult OfField(int status, string title, string detail, string field)
    {
        var problem = new ProblemDetails
        {
            Status = status,
            Title = title,
            Detail = detail,
            Type = $"https://btmc.dev/problems/{title.ToLowerInvariant().Replace(' ', '-')}",
        };
        problem.Extensions["field"] = field;
        return Results.Problem(problem);
    }

    public static IResult NotFound(string detail) => Of(StatusCodes.Status404NotFound, "Not found", detail);

    /// <summary>The HTTP status of each kind of refusal: the only place a capability's refusal meets HTTP.</summary>
    public static int StatusOf(RefusalKind kind) => kind switch
    {
        RefusalKind.Invalid => StatusCodes.Status400BadRequest,
        RefusalKind.Forbidden => StatusCodes.Status403Forbidden,
        RefusalKind.Conflict => StatusCodes.Status409Conflict,
        RefusalKind.TooLarge => StatusCodes.Status413PayloadTooLarge,
        RefusalKind.Busy => StatusCodes.Status503ServiceUnavailable,
        RefusalKind.NotFound => StatusCodes.Status404NotFound,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown refusal kind."),
    };

    /// <summary>
    /// A refusal as problem+json: its kind's status, its title (or the kind's), the message, the wrong member under
    /// <c>field</c>, and every wrong member of a document under <c>errors</c>. A busy refusal asks to retry in a second.
    /// </summary>
    public static IResult Of(Refused refused, HttpResponse response)
    {
        var title = refused.Title ?? refused.Kind switch
        {
            RefusalKind.Invalid => "Invalid request",
            RefusalKind.Forbidden => "Forbidden",
            RefusalKind.Conflict => "Conflict",
            RefusalKind.TooLarge => "Too large",
            RefusalKind.NotFound => "Not found",
            _ => "Busy",
        };
        if (refused.Kind == RefusalKind.Busy)
        {
            response.Headers.RetryAfter = "1";
        }

        var problem = new ProblemDetails
        {
            Status = StatusOf(refused.Kind),
            Title = title,
            Detail = refused.Message,
            Type = $"https://btmc.dev/problems/{title.ToLowerInvariant().Replace(' ', '-')}",
        };
        problem.Extensions["field"] = refused.Field;
        if (refused.Members.Count > 0)
        {
            problem.Extensions["errors"] = refused.Members
                .Select(e => new { eventIndex = e.EventIndex, pointer = e.Pointer, detail = e.Detail })
                .ToList();
        }

        return Results.Problem(problem);
    }
}

/// <summary>
/// Every <see cref="Refused"/> an endpoint lets through becomes problem+json here, so endpoints stay thin: they call
/// the capability and map what it returns, never what it refuses.
/// </summary>
public sealed class RefusalHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not Refused refused)
        {
            return false;
        }

        await Problems.Of(refused, httpContext.Response).ExecuteAsync(httpContext);
        return true;
    }
}
