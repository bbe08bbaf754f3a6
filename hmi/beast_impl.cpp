// Boost.Beast's implementation, compiled once for the whole project
// (BOOST_BEAST_SEPARATE_COMPILATION is a PUBLIC definition of stopcall::hmi, so every user of Beast
// headers links these symbols instead of instantiating them), as daemon/asio/asio_impl.cpp does for
// Asio.
#include <boost/beast/src.hpp>
