namespace Btmc.Functions;

/// <summary>A result with a Location header (the URL of what a request created or names).</summary>
public static class Located
{
    public static IResult WithLocation(this IResult result, string location) => new LocatedResult(result, location);

    private sealed class LocatedResult(IResult inner, string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.Location = location;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
