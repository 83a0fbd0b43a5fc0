# Logins per second with and without the plugin (medians, min..max bars).
# usage: gnuplot -e "data='logins.dat'; out='logins.png'" plot-logins.gp
# data columns: users plugin_median plugin_min plugin_max stock_median
#               stock_min stock_max
set terminal pngcairo size 900,500 font ",11"
set output out
set title "Dovecot 2.3.19.1 logins per second, with and without the referral plugin"
set ylabel "logins/s, each server alone (median of rounds; bars: min..max)"
set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set yrange [0:*]
set grid ytics
set key top right
plot data using 2:3:4:xtic(1) title "with plugin" lc rgb "#3b75af", \
     '' using 5:6:7 title "stock" lc rgb "#bbbbbb"
