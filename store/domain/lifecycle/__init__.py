"""Seat lifecycle: hire a seat (`hiring`), assign or vacate its holder (`holders`), retire it
after a hearing (`hearings`, given `hearing_input`), and read its record (`history`); what
every change shares (who may, the lock, the new revision) is in `chart_changes`.

Every change is one transaction, bumps the chart revision and etag as an import does (so
who-owns sees a moved topic at once), and is in the audit log; the briefing reads these:

    seat.hired            seat:<id>      title, reports_to, holder, owns
    seat.assigned         seat:<id>      holder, previous
    seat.vacated          seat:<id>      previous
    seat.retired          seat:<id>      hearing, holder, moves, manager, reports
    seat.kept             seat:<id>      hearing (a hearing that decided to keep the seat)
    seat.received         seat:<target>  hearing, from, owns, accountabilities
    seat.manager_changed  seat:<report>  hearing, from, to
"""
